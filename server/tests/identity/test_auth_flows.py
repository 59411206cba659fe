"""Authentication and authorization through the real gRPC server, on both backends: logins,
refresh rotation and reuse detection, API key lifecycle, bad input (a clear message and no
side effect), suspension, roles, scopes, plan limits and rate limits."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.protobuf import duration_pb2, field_mask_pb2
from lktest.identity import (
    PASSWORD,
    IdentityServer,
    bearer,
    fails,
    settings_for,
    start_identity_server,
)
from lktest.services import ServiceUrls
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.identity.adapters.tables import refresh_tokens
from linktor.server.infra.cache.factory import create_rate_limiter
from linktor.v1 import api_key_pb2, audit_pb2, auth_pb2, tenant_pb2, user_pb2

UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED


async def count(ids: IdentityServer, table: Table, tenant_id: str) -> int:
    async with ids.identity.store.privileged() as uow:
        query = select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
        return int((await uow.connection.execute(query)).scalar_one())  # type: ignore[attr-defined]


async def test_login_gives_tokens_that_describe_the_user(ids: IdentityServer) -> None:
    a = await ids.tenant()
    session = await ids.login(a.owner_email.upper())  # emails compare case-insensitively
    assert session.tokens.token_type == "Bearer"
    assert session.user.role == user_pb2.ROLE_OWNER
    assert list(session.tenants) == [a.name]
    me = await ids.stubs.auth.GetPrincipal(
        auth_pb2.GetPrincipalRequest(), metadata=bearer(session.tokens.access_token)
    )
    assert (me.tenant, me.user, me.role, me.email) == (
        a.name, f"{a.name}/users/{a.owner_user_id}", user_pb2.ROLE_OWNER, a.owner_email
    )  # fmt: skip


async def test_wrong_password_and_unknown_user_look_the_same_and_create_nothing(
    ids: IdentityServer,
) -> None:
    a = await ids.tenant()
    sessions_before = await count(ids, refresh_tokens, a.id)
    wrong = await fails(ids.login(a.owner_email, "not the password at all"))
    unknown = await fails(ids.login("nobody@example.com"))
    for failure in (wrong, unknown):
        assert failure.code == UNAUTH
        assert failure.message == "the email or password is incorrect"
    assert await count(ids, refresh_tokens, a.id) == sessions_before
    entries = await ids.stubs.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(parent=a.name, action_prefix="auth."),
        metadata=bearer(a.api_key),
    )
    assert [(e.action, e.success) for e in entries.audit_entries] == [("auth.login_failed", False)]
    bad_email = await fails(ids.login("not-an-email"))
    assert bad_email.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "email: must be an email address" in bad_email.message


async def test_malformed_or_missing_credentials_are_named(ids: IdentityServer) -> None:
    call = ids.stubs.auth.GetPrincipal
    request = auth_pb2.GetPrincipalRequest()
    missing = await fails(call(request))
    assert missing.code == UNAUTH and "this call needs credentials" in missing.message
    for header in ("Token abc", "Bearer", "Bearer a b", "Basic dXNlcjpwYXNz"):
        failure = await fails(call(request, metadata=(("authorization", header),)))
        assert failure.code == UNAUTH, header
        assert "authorization metadata is malformed" in failure.message
    junk = await fails(call(request, metadata=bearer("junk")))
    assert "neither an access token (JWT) nor an API key" in junk.message
    short = await fails(call(request, metadata=bearer("lk_short")))
    assert "the API key is malformed" in short.message
    unknown = await fails(call(request, metadata=bearer("lk_aaaaaaaaaaaa_" + "x" * 43)))
    assert unknown.message == "the API key lk_aaaaaaaaaaaa... does not exist"
    a = await ids.tenant()
    forged = a.api_key[:-4] + "AAAA"
    failure = await fails(call(request, metadata=bearer(forged)))
    assert "is not valid (it may have been rotated)" in failure.message


async def test_refresh_rotates_and_reuse_revokes_the_family(ids: IdentityServer) -> None:
    a = await ids.tenant()
    first = (await ids.login(a.owner_email)).tokens
    second = (
        await ids.stubs.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=first.refresh_token))
    ).tokens
    assert second.refresh_token != first.refresh_token
    reused = await fails(
        ids.stubs.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=first.refresh_token))
    )
    assert reused.code == UNAUTH
    assert reused.reason == "REFRESH_TOKEN_REUSED"
    assert "log in again" in reused.message
    # The thief's and the victim's newer token die with the family.
    after = await fails(
        ids.stubs.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=second.refresh_token))
    )
    assert after.code == UNAUTH and "revoked" in after.message
    entries = await ids.stubs.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(parent=a.name, action_prefix="auth.refresh"),
        metadata=bearer(a.api_key),
    )
    assert [e.action for e in entries.audit_entries] == ["auth.refresh_token_reused"]


async def test_logout_ends_the_session(ids: IdentityServer) -> None:
    a = await ids.tenant()
    tokens = (await ids.login(a.owner_email)).tokens
    await ids.stubs.auth.Logout(auth_pb2.LogoutRequest(refresh_token=tokens.refresh_token))
    failure = await fails(
        ids.stubs.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=tokens.refresh_token))
    )
    assert failure.code == UNAUTH and "revoked" in failure.message
    garbage = await fails(ids.stubs.auth.Logout(auth_pb2.LogoutRequest(refresh_token="lkr_nope")))
    assert garbage.code == UNAUTH and "not valid" in garbage.message


async def test_api_key_lifecycle_scopes_revoke_rotate(ids: IdentityServer) -> None:
    a = await ids.tenant(plan="pro")
    keys = ids.stubs.api_keys
    owner = bearer(a.api_key)
    reader = await keys.CreateApiKey(
        api_key_pb2.CreateApiKeyRequest(
            parent=a.name, api_key=api_key_pb2.ApiKey(display_name="ro", scopes=["users:read"])
        ),
        metadata=owner,
    )
    assert reader.secret.startswith(reader.prefix + "_") and reader.prefix.startswith("lk_")
    listed = await keys.ListApiKeys(api_key_pb2.ListApiKeysRequest(parent=a.name), metadata=owner)
    assert {k.name for k in listed.api_keys} == {reader.name, a.api_key_name}
    assert all(k.secret == "" for k in listed.api_keys)

    # Missing scope: a clear refusal, and nothing created.
    denied = await fails(
        keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(
                parent=a.name, api_key=api_key_pb2.ApiKey(scopes=["*"])
            ),
            metadata=bearer(reader.secret),
        )
    )
    assert denied.code == DENIED
    assert (
        denied.message
        == "this API key lacks the scope 'api_keys:write' that ApiKeyService.CreateApiKey needs"
    )
    # A key cannot mint a key with more scopes than its own.
    limited = await keys.CreateApiKey(
        api_key_pb2.CreateApiKeyRequest(
            parent=a.name, api_key=api_key_pb2.ApiKey(scopes=["api_keys:write"])
        ),
        metadata=owner,
    )
    escalate = await fails(
        keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(
                parent=a.name, api_key=api_key_pb2.ApiKey(scopes=["*"])
            ),
            metadata=bearer(limited.secret),
        )
    )
    assert escalate.code == DENIED and "scopes it does not have" in escalate.message
    bad_scope = await fails(
        keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(
                parent=a.name, api_key=api_key_pb2.ApiKey(scopes=["mesages:send"])
            ),
            metadata=owner,
        )
    )
    assert (
        bad_scope.code == grpc.StatusCode.INVALID_ARGUMENT
        and "unknown scope 'mesages:send'" in bad_scope.message
    )
    listed_after = await keys.ListApiKeys(
        api_key_pb2.ListApiKeysRequest(parent=a.name), metadata=owner
    )
    assert len(listed_after.api_keys) == 3

    # Rotation without grace: the old secret stops at once, the new one works.
    rotated = await keys.RotateApiKey(
        api_key_pb2.RotateApiKeyRequest(name=reader.name), metadata=owner
    )
    assert rotated.prefix == reader.prefix and rotated.secret != reader.secret
    old = await fails(
        ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(reader.secret))
    )
    assert old.code == UNAUTH and "may have been rotated" in old.message
    await ids.stubs.auth.GetPrincipal(
        auth_pb2.GetPrincipalRequest(), metadata=bearer(rotated.secret)
    )
    # With grace, both work for a while.
    graced = await keys.RotateApiKey(
        api_key_pb2.RotateApiKeyRequest(
            name=reader.name, grace_period=duration_pb2.Duration(seconds=600)
        ),
        metadata=owner,
    )
    for secret in (rotated.secret, graced.secret):
        await ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(secret))

    revoked = await keys.RevokeApiKey(
        api_key_pb2.RevokeApiKeyRequest(name=reader.name), metadata=owner
    )
    assert revoked.state == api_key_pb2.API_KEY_STATE_REVOKED
    for secret in (rotated.secret, graced.secret):
        gone = await fails(
            ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(secret))
        )
        assert gone.code == UNAUTH
    gone = await fails(
        ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(graced.secret))
    )
    assert gone.message == f"the API key {reader.prefix}... was revoked"
    audit = await ids.stubs.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(parent=a.name, action_prefix="api_key."), metadata=owner
    )
    assert [e.action for e in audit.audit_entries][:4] == [
        "api_key.revoke", "api_key.rotate", "api_key.rotate", "api_key.create"
    ]  # fmt: skip


async def test_roles_are_enforced(ids: IdentityServer) -> None:
    a = await ids.tenant()
    owner = bearer(a.api_key)
    agent = await ids.stubs.users.CreateUser(
        user_pb2.CreateUserRequest(
            parent=a.name,
            user=user_pb2.User(
                email=f"agent-{a.id}@example.com", role=user_pb2.ROLE_AGENT, password=PASSWORD
            ),
        ),
        metadata=owner,
    )
    assert agent.state == user_pb2.USER_STATE_ACTIVE
    token = (await ids.login(agent.email)).tokens.access_token
    denied = await fails(
        ids.stubs.api_keys.ListApiKeys(
            api_key_pb2.ListApiKeysRequest(parent=a.name), metadata=bearer(token)
        )
    )
    assert denied.code == DENIED
    assert (
        denied.message
        == "ApiKeyService.ListApiKeys requires the admin role or higher; yours is agent"
    )
    users = await ids.stubs.users.ListUsers(
        user_pb2.ListUsersRequest(parent=a.name), metadata=bearer(token)
    )
    assert len(users.users) == 2
    # An admin (here: an API key, which acts as an admin) cannot touch the owner ...
    owner_name = f"{a.name}/users/{a.owner_user_id}"
    touch = await fails(
        ids.stubs.users.DeactivateUser(
            user_pb2.DeactivateUserRequest(name=owner_name), metadata=owner
        )
    )
    assert touch.code == DENIED and "only an owner" in touch.message
    # ... and the last owner cannot step down.
    owner_token = bearer((await ids.login(a.owner_email)).tokens.access_token)
    last = await fails(
        ids.stubs.users.UpdateUser(
            user_pb2.UpdateUserRequest(
                user=user_pb2.User(name=owner_name, role=user_pb2.ROLE_ADMIN),
                update_mask=field_mask_pb2.FieldMask(paths=["role"]),
            ),
            metadata=owner_token,
        )
    )
    assert last.code == grpc.StatusCode.FAILED_PRECONDITION and "last owner" in last.message
    # Deactivation takes effect on the next call of this replica.
    await ids.stubs.users.DeactivateUser(
        user_pb2.DeactivateUserRequest(name=agent.name), metadata=owner
    )
    gone = await fails(
        ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(token))
    )
    assert gone.code == DENIED and gone.reason == "USER_DEACTIVATED"


async def test_a_suspended_tenant_is_refused_with_its_reason(ids: IdentityServer) -> None:
    a = await ids.tenant()
    operator = bearer(await ids.operator_key())
    await ids.stubs.tenants.SuspendTenant(
        tenant_pb2.SuspendTenantRequest(name=a.name, reason="unpaid invoices"), metadata=operator
    )
    failure = await fails(
        ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(a.api_key))
    )
    assert failure.code == DENIED
    assert failure.reason == "TENANT_SUSPENDED"
    assert failure.metadata == {"reason": "unpaid invoices"}
    assert "unpaid invoices" in failure.message
    login = await fails(ids.login(a.owner_email))
    assert login.reason == "TENANT_SUSPENDED"
    await ids.stubs.tenants.ReactivateTenant(
        tenant_pb2.ReactivateTenantRequest(name=a.name), metadata=operator
    )
    await ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(a.api_key))
    listed = await ids.stubs.tenants.ListTenants(
        tenant_pb2.ListTenantsRequest(page_size=1000), metadata=operator
    )
    assert a.name in {t.name for t in listed.tenants}
    operator_elsewhere = await fails(
        ids.stubs.users.ListUsers(user_pb2.ListUsersRequest(parent=a.name), metadata=operator)
    )
    assert (
        operator_elsewhere.code == DENIED
        and "not available to platform operators" in operator_elsewhere.message
    )


async def test_plan_limits_are_enforced_with_a_clear_reason(ids: IdentityServer) -> None:
    a = await ids.tenant(plan="free")  # free: 2 API keys, 3 users
    owner = bearer(a.api_key)
    request = api_key_pb2.CreateApiKeyRequest(
        parent=a.name, api_key=api_key_pb2.ApiKey(scopes=["users:read"])
    )
    await ids.stubs.api_keys.CreateApiKey(request, metadata=owner)
    failure = await fails(ids.stubs.api_keys.CreateApiKey(request, metadata=owner))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reason == "PLAN_LIMIT_EXCEEDED"
    assert failure.metadata["limit"] == "api_keys"
    assert "the Free plan allows 2 active API keys" in failure.message
    for n in range(2):
        await ids.stubs.users.CreateUser(
            user_pb2.CreateUserRequest(
                parent=a.name,
                user=user_pb2.User(email=f"u{n}-{a.id}@example.com", role=user_pb2.ROLE_VIEWER),
            ),
            metadata=owner,
        )
    seats = await fails(
        ids.stubs.users.CreateUser(
            user_pb2.CreateUserRequest(
                parent=a.name,
                user=user_pb2.User(email=f"u9-{a.id}@example.com", role=user_pb2.ROLE_VIEWER),
            ),
            metadata=owner,
        )
    )
    assert seats.reason == "PLAN_LIMIT_EXCEEDED" and seats.metadata["limit"] == "agents"


async def test_rate_limits_answer_resource_exhausted_with_retry_info(
    backend: str, engine: AsyncEngine, services: ServiceUrls, tmp_path: Path
) -> None:
    limiter = create_rate_limiter(services.redis_url if backend == "scaled" else None)
    settings = settings_for(
        tmp_path,
        rate_limit_tenant_per_second=0.5,
        rate_limit_tenant_burst=3,
        login_attempts_per_account_per_minute=2,
    )
    async with start_identity_server(engine, settings, limiter) as ids:
        a = await ids.tenant()
        call = ids.stubs.auth.GetPrincipal
        for _ in range(3):
            await call(auth_pb2.GetPrincipalRequest(), metadata=bearer(a.api_key))
        failure = await fails(call(auth_pb2.GetPrincipalRequest(), metadata=bearer(a.api_key)))
        assert failure.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert failure.reason == "RATE_LIMITED"
        assert failure.metadata["limit"] == "tenant"
        assert failure.retry_after is not None and 0 < failure.retry_after <= 2.0
        assert "rate limit of this tenant exceeded" in failure.message
        # Another tenant is not affected.
        b = await ids.tenant()
        await call(auth_pb2.GetPrincipalRequest(), metadata=bearer(b.api_key))
        # Login attempts per account.
        for _ in range(2):
            await fails(ids.login(b.owner_email, "wrong password, twice"))
        locked = await fails(ids.login(b.owner_email))
        assert locked.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "too many login attempts for this account" in locked.message
        assert locked.retry_after is not None and locked.retry_after > 0
    close = getattr(limiter, "close", None)
    if close is not None:
        await close()
