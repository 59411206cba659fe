"""Password setup tokens (UserService.IssuePasswordSetup, AuthService.SetPassword) and
ChangePassword through the real gRPC server, on both backends: an invited user gets in, a
reset ends sessions, tokens are single use, expire and are replaced by newer ones, admins
cannot act on owners, and the token is never stored or logged."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from lktest.identity import (
    PASSWORD,
    IdentityServer,
    Tenant,
    bearer,
    fails,
    settings_for,
    start_identity_server,
)
from lktest.services import ServiceUrls
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.identity.adapters.tables import password_setups
from linktor.server.infra.cache.factory import create_rate_limiter
from linktor.server.shared.clock import FakeClock
from linktor.server.shared.principal import Principal
from linktor.v1 import audit_pb2, auth_pb2, user_pb2

UNAUTH = grpc.StatusCode.UNAUTHENTICATED
NEW_PASSWORD = "a brand new passphrase"


async def invite(
    ids: IdentityServer,
    tenant: Tenant,
    email: str,
    role: user_pb2.Role.ValueType = user_pb2.ROLE_AGENT,
) -> user_pb2.User:
    return await ids.stubs.users.CreateUser(
        user_pb2.CreateUserRequest(
            parent=tenant.name, user=user_pb2.User(email=email, role=role, display_name="New")
        ),
        metadata=bearer(tenant.api_key),
    )


async def issue(ids: IdentityServer, name: str, credential: str) -> user_pb2.PasswordSetup:
    return await ids.stubs.users.IssuePasswordSetup(
        user_pb2.IssuePasswordSetupRequest(name=name), metadata=bearer(credential)
    )


def set_password(
    ids: IdentityServer, token: str, password: str = NEW_PASSWORD
) -> Awaitable[auth_pb2.SetPasswordResponse]:
    return ids.stubs.auth.SetPassword(auth_pb2.SetPasswordRequest(token=token, password=password))


async def stored_setups(ids: IdentityServer, user_id: str) -> list[object]:
    async with ids.identity.store.privileged() as uow:
        query = select(password_setups).where(password_setups.c.user_id == user_id)
        return list((await uow.connection.execute(query)).all())  # type: ignore[attr-defined]


async def test_an_invited_user_sets_a_password_once_and_logs_in(
    ids: IdentityServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    a = await ids.tenant()
    user = await invite(ids, a, f"new-{a.id}@example.com")
    assert user.state == user_pb2.USER_STATE_INVITED
    assert (await fails(ids.login(user.email, NEW_PASSWORD))).code == UNAUTH

    owner = (await ids.login(a.owner_email)).tokens.access_token
    setup = await issue(ids, user.name, owner)
    assert setup.user == user.name
    assert setup.token.startswith("lkps_") and len(setup.token) >= 40
    expire = setup.expire_time.ToDatetime(tzinfo=UTC)
    assert timedelta(hours=71) < expire - datetime.now(UTC) <= timedelta(hours=72)

    # Bad input is named and uses nothing up.
    short = await fails(set_password(ids, setup.token, "short"))
    assert short.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "password" in short.violations

    done = await set_password(ids, setup.token)
    assert done.user.name == user.name
    assert done.user.state == user_pb2.USER_STATE_ACTIVE
    session = await ids.login(user.email, NEW_PASSWORD)
    assert session.user.state == user_pb2.USER_STATE_ACTIVE

    again = await fails(set_password(ids, setup.token, "yet another passphrase"))
    assert again.code == UNAUTH
    assert "already used" in again.message
    await ids.login(user.email, NEW_PASSWORD)  # unchanged

    unknown = await fails(set_password(ids, "lkps_" + "x" * 43))
    assert unknown.code == UNAUTH and "not valid" in unknown.message

    # Only the hash is stored; the token is in no log.
    (row,) = await stored_setups(ids, user.name.rsplit("/", 1)[1])
    assert row.token_hash == hashlib.sha256(setup.token.encode()).hexdigest()  # type: ignore[attr-defined]
    assert setup.token not in repr(row)
    logged = caplog.text + capsys.readouterr().out
    assert setup.token not in logged

    entries = await ids.stubs.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(parent=a.name), metadata=bearer(a.api_key)
    )
    actions = {(e.action, e.resource) for e in entries.audit_entries}
    assert ("user.password_setup_issue", user.name) in actions
    assert ("auth.password_set", user.name) in actions
    assert all(setup.token not in str(e) for e in entries.audit_entries)


async def test_a_new_token_replaces_the_older_one(ids: IdentityServer) -> None:
    a = await ids.tenant()
    user = await invite(ids, a, f"re-{a.id}@example.com")
    first = await issue(ids, user.name, a.api_key)
    second = await issue(ids, user.name, a.api_key)
    old = await fails(set_password(ids, first.token))
    assert old.code == UNAUTH and "replaced" in old.message
    assert (await fails(ids.login(user.email, NEW_PASSWORD))).code == UNAUTH  # nothing changed
    await set_password(ids, second.token)
    await ids.login(user.email, NEW_PASSWORD)


async def test_a_reset_ends_the_sessions_of_an_active_user(ids: IdentityServer) -> None:
    a = await ids.tenant()
    before = await ids.login(a.owner_email)
    setup = await issue(ids, f"{a.name}/users/{a.owner_user_id}", before.tokens.access_token)
    await set_password(ids, setup.token)
    refused = await fails(
        ids.stubs.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=before.tokens.refresh_token))
    )
    assert refused.code == UNAUTH
    assert (await fails(ids.login(a.owner_email))).code == UNAUTH  # the old password
    await ids.login(a.owner_email, NEW_PASSWORD)


async def test_who_may_issue_and_for_whom(ids: IdentityServer) -> None:
    a, b = await ids.tenant(plan="pro"), await ids.tenant()
    admin = await ids.stubs.users.CreateUser(
        user_pb2.CreateUserRequest(
            parent=a.name,
            user=user_pb2.User(
                email=f"admin-{a.id}@example.com", role=user_pb2.ROLE_ADMIN, password=PASSWORD
            ),
        ),
        metadata=bearer(a.api_key),
    )
    admin_token = (await ids.login(admin.email)).tokens.access_token
    owner_name = f"{a.name}/users/{a.owner_user_id}"

    denied = await fails(issue(ids, owner_name, admin_token))
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    assert "only an owner" in denied.message
    denied = await fails(issue(ids, owner_name, a.api_key))  # keys act as admins
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED

    agent = await invite(ids, a, f"agent-{a.id}@example.com")
    assert (await issue(ids, agent.name, admin_token)).token.startswith("lkps_")

    viewer = await ids.stubs.users.CreateUser(
        user_pb2.CreateUserRequest(
            parent=a.name,
            user=user_pb2.User(
                email=f"viewer-{a.id}@example.com", role=user_pb2.ROLE_VIEWER, password=PASSWORD
            ),
        ),
        metadata=bearer(a.api_key),
    )
    viewer_token = (await ids.login(viewer.email)).tokens.access_token
    assert (await fails(issue(ids, agent.name, viewer_token))).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )

    # Another tenant's user: NOT_FOUND, under its name or under A's.
    b_owner = f"{b.name}/users/{b.owner_user_id}"
    for name in (b_owner, f"{a.name}/users/{b.owner_user_id}"):
        assert (await fails(issue(ids, name, admin_token))).code == grpc.StatusCode.NOT_FOUND
    assert await stored_setups(ids, b.owner_user_id) == []

    await ids.stubs.users.DeactivateUser(
        user_pb2.DeactivateUserRequest(name=agent.name), metadata=bearer(a.api_key)
    )
    gone = await fails(issue(ids, agent.name, admin_token))
    assert gone.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "deactivated" in gone.message


async def test_a_token_of_a_deactivated_user_changes_nothing(ids: IdentityServer) -> None:
    a = await ids.tenant()
    user = await invite(ids, a, f"d-{a.id}@example.com")
    setup = await issue(ids, user.name, a.api_key)
    await ids.stubs.users.DeactivateUser(
        user_pb2.DeactivateUserRequest(name=user.name), metadata=bearer(a.api_key)
    )
    failure = await fails(set_password(ids, setup.token))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert (await fails(ids.login(user.email, NEW_PASSWORD))).code != grpc.StatusCode.OK


async def test_a_person_of_several_tenants_is_not_one_tenants_to_reset(
    ids: IdentityServer,
) -> None:
    a, b = await ids.tenant(), await ids.tenant()
    email = f"both-{a.id}@example.com"
    in_a = await invite(ids, a, email)
    await invite(ids, b, email)
    failure = await fails(issue(ids, in_a.name, a.api_key))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "other tenants" in failure.message
    assert b.id not in failure.message


async def test_change_password(ids: IdentityServer) -> None:
    a = await ids.tenant()
    one = await ids.login(a.owner_email)
    two = await ids.login(a.owner_email)
    me = bearer(two.tokens.access_token)

    wrong = await fails(
        ids.stubs.auth.ChangePassword(
            auth_pb2.ChangePasswordRequest(
                current_password="not the password", new_password=NEW_PASSWORD
            ),
            metadata=me,
        )
    )
    assert wrong.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "current_password" in wrong.violations
    await ids.login(a.owner_email)  # unchanged

    key = await fails(
        ids.stubs.auth.ChangePassword(
            auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password=NEW_PASSWORD),
            metadata=bearer(a.api_key),
        )
    )
    assert key.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "access token" in key.message

    await ids.stubs.auth.ChangePassword(
        auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password=NEW_PASSWORD),
        metadata=me,
    )
    assert (await fails(ids.login(a.owner_email))).code == UNAUTH
    await ids.login(a.owner_email, NEW_PASSWORD)
    # The other session ended; the calling one goes on.
    other = await fails(
        ids.stubs.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=one.tokens.refresh_token))
    )
    assert other.code == UNAUTH
    await ids.stubs.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=two.tokens.refresh_token))
    entries = await ids.stubs.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(parent=a.name, action_prefix="auth.password_change"),
        metadata=bearer(a.api_key),
    )
    assert [e.action for e in entries.audit_entries] == [
        "auth.password_change",
        "auth.password_change_failed",
    ]


@pytest_asyncio.fixture
async def clocked(
    backend: str, engine: AsyncEngine, services: ServiceUrls, tmp_path: Path
) -> AsyncIterator[tuple[IdentityServer, FakeClock]]:
    clock = FakeClock(datetime.now(UTC))
    limiter = create_rate_limiter(services.redis_url if backend == "scaled" else None)
    async with start_identity_server(engine, settings_for(tmp_path), limiter, clock=clock) as s:
        yield s, clock
    close = getattr(limiter, "close", None)
    if close is not None:
        await close()


async def test_an_expired_token_changes_nothing(
    clocked: tuple[IdentityServer, FakeClock],
) -> None:
    ids, clock = clocked
    a = await ids.tenant()
    user = await invite(ids, a, f"late-{a.id}@example.com")
    setup = await issue(ids, user.name, a.api_key)
    clock.advance(timedelta(hours=72, seconds=1))
    failure = await fails(set_password(ids, setup.token))
    assert failure.code == UNAUTH and "expired" in failure.message
    got = await ids.stubs.users.GetUser(
        user_pb2.GetUserRequest(name=user.name), metadata=bearer(a.api_key)
    )
    assert got.state == user_pb2.USER_STATE_INVITED


async def test_an_operator_token_activates_every_invited_membership(ids: IdentityServer) -> None:
    a, b = await ids.tenant(), await ids.tenant()
    email = f"multi-{a.id}@example.com"
    in_a = await invite(ids, a, email)
    in_b = await invite(ids, b, email)
    operator = Principal(tenant_id=None, platform_operator=True)
    user_id = in_a.name.rsplit("/", 1)[1]
    issued = await ids.identity.passwords.issue(operator, a.id, user_id)
    await set_password(ids, issued.token)
    for tenant, user in ((a, in_a), (b, in_b)):
        got = await ids.stubs.users.GetUser(
            user_pb2.GetUserRequest(name=user.name), metadata=bearer(tenant.api_key)
        )
        assert got.state == user_pb2.USER_STATE_ACTIVE
    session = await ids.login(email, NEW_PASSWORD, tenant=b.name)
    assert session.user.name == in_b.name
