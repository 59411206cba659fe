"""Tenants, users of several tenants, audit paging, and the plan-limit port other contexts
use (metered usage in the caller's transaction), on both backends."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import field_mask_pb2
from lktest.identity import PASSWORD, IdentityServer, bearer, fails
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.identity.adapters.sql import SqlIdentityUnitOfWork
from linktor.server.identity.adapters.sql_audit import SqlUsageRepository
from linktor.server.identity.domain.plan import Limit, Plan
from linktor.server.shared.errors import FailedPrecondition, NotFound
from linktor.v1 import api_key_pb2, audit_pb2, auth_pb2, tenant_pb2, user_pb2


async def test_operators_change_plans_owners_rename_etags_guard(ids: IdentityServer) -> None:
    a = await ids.tenant()
    operator = bearer(await ids.operator_key())
    owner = bearer((await ids.login(a.owner_email)).tokens.access_token)
    tenants = ids.stubs.tenants
    current = await tenants.GetTenant(tenant_pb2.GetTenantRequest(name=a.name), metadata=owner)
    renamed = await tenants.UpdateTenant(
        tenant_pb2.UpdateTenantRequest(
            tenant=tenant_pb2.Tenant(name=a.name, display_name="Acme Renamed", etag=current.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=owner,
    )
    assert renamed.display_name == "Acme Renamed" and renamed.etag != current.etag
    stale = await fails(
        tenants.UpdateTenant(
            tenant_pb2.UpdateTenantRequest(
                tenant=tenant_pb2.Tenant(name=a.name, display_name="x", etag=current.etag),
                update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
            ),
            metadata=owner,
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    plan_change = tenant_pb2.UpdateTenantRequest(
        tenant=tenant_pb2.Tenant(name=a.name, plan="pro"),
        update_mask=field_mask_pb2.FieldMask(paths=["plan"]),
    )
    by_owner = await fails(tenants.UpdateTenant(plan_change, metadata=owner))
    assert by_owner.code == grpc.StatusCode.PERMISSION_DENIED
    assert (await tenants.UpdateTenant(plan_change, metadata=operator)).plan == "pro"
    plan_change.tenant.plan = "gold"
    unknown = await fails(tenants.UpdateTenant(plan_change, metadata=operator))
    assert (
        unknown.code == grpc.StatusCode.INVALID_ARGUMENT
        and "unknown plan 'gold'" in unknown.message
    )
    bad_mask = await fails(
        tenants.UpdateTenant(
            tenant_pb2.UpdateTenantRequest(
                tenant=tenant_pb2.Tenant(name=a.name),
                update_mask=field_mask_pb2.FieldMask(paths=["state"]),
            ),
            metadata=owner,
        )
    )
    assert (
        bad_mask.code == grpc.StatusCode.INVALID_ARGUMENT
        and "tenant.state cannot be updated" in bad_mask.message
    )
    created = await tenants.CreateTenant(
        tenant_pb2.CreateTenantRequest(tenant=tenant_pb2.Tenant(display_name="Beta & Co")),
        metadata=operator,
    )
    assert created.name.startswith("tenants/beta-co-") and created.plan == "free"
    duplicate = await fails(
        tenants.CreateTenant(
            tenant_pb2.CreateTenantRequest(
                tenant=tenant_pb2.Tenant(display_name="x"), tenant_id=a.id
            ),
            metadata=operator,
        )
    )
    assert duplicate.code == grpc.StatusCode.ALREADY_EXISTS


async def test_a_person_in_two_tenants_names_the_tenant_at_login(ids: IdentityServer) -> None:
    a, b = await ids.tenant(), await ids.tenant()
    email = f"consultant-{a.id}@example.com"
    await ids.stubs.users.CreateUser(
        user_pb2.CreateUserRequest(
            parent=a.name,
            user=user_pb2.User(email=email, role=user_pb2.ROLE_AGENT, password=PASSWORD),
        ),
        metadata=bearer(a.api_key),
    )
    # In B the same person is added without a password (they already have one) ...
    joined = await ids.stubs.users.CreateUser(
        user_pb2.CreateUserRequest(
            parent=b.name, user=user_pb2.User(email=email, role=user_pb2.ROLE_VIEWER)
        ),
        metadata=bearer(b.api_key),
    )
    assert joined.state == user_pb2.USER_STATE_ACTIVE
    # ... and B cannot set it.
    takeover = await fails(
        ids.stubs.users.CreateUser(
            user_pb2.CreateUserRequest(
                parent=b.name,
                user=user_pb2.User(
                    email=email.upper(), role=user_pb2.ROLE_VIEWER, password="another password!"
                ),
            ),
            metadata=bearer(b.api_key),
        )
    )
    assert (
        takeover.code == grpc.StatusCode.INVALID_ARGUMENT
        and "already has a Linktor account" in takeover.message
    )
    ambiguous = await fails(ids.login(email))
    assert ambiguous.code == grpc.StatusCode.INVALID_ARGUMENT
    assert a.name in ambiguous.message and b.name in ambiguous.message
    session = await ids.login(email, tenant=b.name)
    assert session.user.role == user_pb2.ROLE_VIEWER and set(session.tenants) == {a.name, b.name}
    me = await ids.stubs.auth.GetPrincipal(
        auth_pb2.GetPrincipalRequest(), metadata=bearer(session.tokens.access_token)
    )
    assert me.tenant == b.name


async def test_audit_entries_page_newest_first_and_filter(ids: IdentityServer) -> None:
    a = await ids.tenant()
    for _ in range(3):
        await ids.login(a.owner_email)
    audit = ids.stubs.audit
    seen: list[str] = []
    token = ""
    while True:
        page = await audit.ListAuditEntries(
            audit_pb2.ListAuditEntriesRequest(
                parent=a.name, page_size=2, page_token=token, action_prefix="auth."
            ),
            metadata=bearer(a.api_key),
        )
        seen += [e.name for e in page.audit_entries]
        assert all(
            e.action == "auth.login" and e.client_address == "127.0.0.1" for e in page.audit_entries
        )
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 3
    everything = await audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(parent=a.name), metadata=bearer(a.api_key)
    )
    assert everything.audit_entries[-1].action == "tenant.create"  # oldest last
    reused = await fails(
        audit.ListAuditEntries(
            audit_pb2.ListAuditEntriesRequest(
                parent=a.name, page_token=page.next_page_token or "eyJ4IjoxfQ"
            ),
            metadata=bearer(a.api_key),
        )
    )
    assert reused.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_metered_usage_is_counted_in_the_callers_transaction(
    ids: IdentityServer, engine: AsyncEngine
) -> None:
    a = await ids.tenant()
    plans = ids.identity.plans
    plan = Plan("tiny", "Tiny", {Limit.MESSAGES_PER_MONTH: 3})

    async def send(amount: int, commit: bool = True) -> int:
        async with SqlIdentityUnitOfWork(engine, tenant_id=a.id) as uow:
            total = await plans.consume(
                SqlUsageRepository(uow.connection), plan, a.id, Limit.MESSAGES_PER_MONTH, amount
            )
            if commit:
                await uow.commit()
            return total

    assert await send(1) == 1
    assert await send(1, commit=False) == 2  # rolled back: not counted
    assert await send(2) == 3
    with pytest.raises(FailedPrecondition) as info:
        await send(1)
    assert info.value.reason == "PLAN_LIMIT_EXCEEDED"
    assert info.value.metadata == {"limit": "messages_per_month", "plan": "tiny", "maximum": "3"}
    assert (await plans.plan_of(a.id)).id == "free"


async def test_concurrent_refreshes_of_one_token_let_one_win(ids: IdentityServer) -> None:
    a = await ids.tenant()
    tokens = (await ids.login(a.owner_email)).tokens
    request = auth_pb2.RefreshRequest(refresh_token=tokens.refresh_token)
    results = await asyncio.gather(
        ids.stubs.auth.Refresh(request), ids.stubs.auth.Refresh(request), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, auth_pb2.RefreshResponse)]
    assert len(winners) <= 1  # never two live sessions from one token
    assert any(isinstance(r, grpc.aio.AioRpcError) for r in results)


async def test_request_id_makes_create_user_and_create_tenant_idempotent(
    ids: IdentityServer,
) -> None:
    a = await ids.tenant(plan="pro")
    request = user_pb2.CreateUserRequest(
        parent=a.name,
        user=user_pb2.User(
            email=f"retry-{a.id}@example.com", role=user_pb2.ROLE_AGENT, password=PASSWORD
        ),
        request_id="req-1",
    )
    first = await ids.stubs.users.CreateUser(request, metadata=bearer(a.api_key))
    again = await ids.stubs.users.CreateUser(request, metadata=bearer(a.api_key))
    assert again == first
    request.user.role = user_pb2.ROLE_ADMIN
    reused = await fails(ids.stubs.users.CreateUser(request, metadata=bearer(a.api_key)))
    assert reused.code == grpc.StatusCode.ALREADY_EXISTS and reused.reason == "REQUEST_ID_REUSED"
    operator = bearer(await ids.operator_key())
    create = tenant_pb2.CreateTenantRequest(
        tenant=tenant_pb2.Tenant(display_name="Once"), request_id=f"t-{a.id}"
    )
    made = await ids.stubs.tenants.CreateTenant(create, metadata=operator)
    assert (await ids.stubs.tenants.CreateTenant(create, metadata=operator)).name == made.name


async def test_plan_limits_hold_under_concurrent_creates(ids: IdentityServer) -> None:
    a = await ids.tenant(plan="free")  # 2 API keys: the bootstrap key + 1
    request = api_key_pb2.CreateApiKeyRequest(
        parent=a.name, api_key=api_key_pb2.ApiKey(scopes=["users:read"])
    )
    results = await asyncio.gather(
        *(ids.stubs.api_keys.CreateApiKey(request, metadata=bearer(a.api_key)) for _ in range(4)),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, api_key_pb2.ApiKey)]
    assert len(created) == 1
    listed = await ids.stubs.api_keys.ListApiKeys(
        api_key_pb2.ListApiKeysRequest(parent=a.name), metadata=bearer(a.api_key)
    )
    assert len(listed.api_keys) == 2


async def test_operator_keys_are_listed_without_secrets_and_revoked(ids: IdentityServer) -> None:
    issued = await ids.identity.operators.create_key("ops-rotation@example.com")
    operator = bearer(issued.secret)
    listing = tenant_pb2.ListTenantsRequest()
    await ids.stubs.tenants.ListTenants(listing, metadata=operator)
    keys = {k.prefix: k for k in await ids.identity.operators.list_keys()}
    listed = keys[issued.key.prefix]
    assert listed.display_name == "ops-rotation@example.com" and listed.revoke_time is None
    assert issued.secret not in repr(listed) and listed.secret_hash != issued.secret

    revoked = await ids.identity.operators.revoke_key(issued.key.prefix)
    assert revoked.revoke_time is not None
    refused = await fails(ids.stubs.tenants.ListTenants(listing, metadata=operator))
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in refused.message
    # Idempotent: the first revoke time stays.
    again = await ids.identity.operators.revoke_key(issued.key.prefix)
    assert again.revoke_time == revoked.revoke_time
    with pytest.raises(NotFound, match="no operator key"):
        await ids.identity.operators.revoke_key("lko_nosuchkey")
