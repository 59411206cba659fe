"""Tenant isolation through the real gRPC server: every implemented RPC, called with tenant
A's credentials (a user's access token, then an API key with every scope) against tenant B's
resources, answers NOT_FOUND (or PERMISSION_DENIED for operator-only RPCs), reveals nothing
and changes nothing. On SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from lktest.identity import IdentityServer, Tenant, bearer, fails

from linktor.v1 import api_key_pb2, audit_pb2, auth_pb2, tenant_pb2, user_pb2

NF = grpc.StatusCode.NOT_FOUND
PD = grpc.StatusCode.PERMISSION_DENIED

# (label, expected code, call builder: (stubs, tenant B, b_user_id, b_key_id, A) -> awaitable)
Case = tuple[str, grpc.StatusCode, Callable[..., Any]]


def cases() -> list[Case]:
    return [
        ("GetTenant", NF, lambda s, b, u, k, a: s.tenants.GetTenant(tenant_pb2.GetTenantRequest(name=b.name))),
        ("UpdateTenant", NF, lambda s, b, u, k, a: s.tenants.UpdateTenant(tenant_pb2.UpdateTenantRequest(tenant=tenant_pb2.Tenant(name=b.name, display_name="pwned"), update_mask=field_mask_pb2.FieldMask(paths=["display_name"])))),
        ("CreateTenant", PD, lambda s, b, u, k, a: s.tenants.CreateTenant(tenant_pb2.CreateTenantRequest(tenant=tenant_pb2.Tenant(display_name="x")))),
        ("ListTenants", PD, lambda s, b, u, k, a: s.tenants.ListTenants(tenant_pb2.ListTenantsRequest())),
        ("SuspendTenant", PD, lambda s, b, u, k, a: s.tenants.SuspendTenant(tenant_pb2.SuspendTenantRequest(name=b.name, reason="pwned"))),
        ("ReactivateTenant", PD, lambda s, b, u, k, a: s.tenants.ReactivateTenant(tenant_pb2.ReactivateTenantRequest(name=b.name))),
        ("CreateUser", NF, lambda s, b, u, k, a: s.users.CreateUser(user_pb2.CreateUserRequest(parent=b.name, user=user_pb2.User(email="spy@example.com", role=user_pb2.ROLE_OWNER)))),
        ("GetUser", NF, lambda s, b, u, k, a: s.users.GetUser(user_pb2.GetUserRequest(name=f"{b.name}/users/{u}"))),
        ("GetUser (B's user under A)", NF, lambda s, b, u, k, a: s.users.GetUser(user_pb2.GetUserRequest(name=f"{a.name}/users/{u}"))),
        ("ListUsers", NF, lambda s, b, u, k, a: s.users.ListUsers(user_pb2.ListUsersRequest(parent=b.name))),
        ("UpdateUser", NF, lambda s, b, u, k, a: s.users.UpdateUser(user_pb2.UpdateUserRequest(user=user_pb2.User(name=f"{b.name}/users/{u}", role=user_pb2.ROLE_VIEWER), update_mask=field_mask_pb2.FieldMask(paths=["role"])))),
        ("UpdateUser (B's user under A)", NF, lambda s, b, u, k, a: s.users.UpdateUser(user_pb2.UpdateUserRequest(user=user_pb2.User(name=f"{a.name}/users/{u}", display_name="x"), update_mask=field_mask_pb2.FieldMask(paths=["display_name"])))),
        ("DeactivateUser", NF, lambda s, b, u, k, a: s.users.DeactivateUser(user_pb2.DeactivateUserRequest(name=f"{b.name}/users/{u}"))),
        ("DeactivateUser (B's user under A)", NF, lambda s, b, u, k, a: s.users.DeactivateUser(user_pb2.DeactivateUserRequest(name=f"{a.name}/users/{u}"))),
        ("ReactivateUser", NF, lambda s, b, u, k, a: s.users.ReactivateUser(user_pb2.ReactivateUserRequest(name=f"{b.name}/users/{u}"))),
        ("IssuePasswordSetup", NF, lambda s, b, u, k, a: s.users.IssuePasswordSetup(user_pb2.IssuePasswordSetupRequest(name=f"{b.name}/users/{u}"))),
        ("IssuePasswordSetup (B's user under A)", NF, lambda s, b, u, k, a: s.users.IssuePasswordSetup(user_pb2.IssuePasswordSetupRequest(name=f"{a.name}/users/{u}"))),
        ("CreateApiKey", NF, lambda s, b, u, k, a: s.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(parent=b.name, api_key=api_key_pb2.ApiKey(scopes=["*"])))),
        ("GetApiKey", NF, lambda s, b, u, k, a: s.api_keys.GetApiKey(api_key_pb2.GetApiKeyRequest(name=f"{b.name}/apiKeys/{k}"))),
        ("GetApiKey (B's key under A)", NF, lambda s, b, u, k, a: s.api_keys.GetApiKey(api_key_pb2.GetApiKeyRequest(name=f"{a.name}/apiKeys/{k}"))),
        ("ListApiKeys", NF, lambda s, b, u, k, a: s.api_keys.ListApiKeys(api_key_pb2.ListApiKeysRequest(parent=b.name))),
        ("RevokeApiKey", NF, lambda s, b, u, k, a: s.api_keys.RevokeApiKey(api_key_pb2.RevokeApiKeyRequest(name=f"{b.name}/apiKeys/{k}"))),
        ("RevokeApiKey (B's key under A)", NF, lambda s, b, u, k, a: s.api_keys.RevokeApiKey(api_key_pb2.RevokeApiKeyRequest(name=f"{a.name}/apiKeys/{k}"))),
        ("RotateApiKey", NF, lambda s, b, u, k, a: s.api_keys.RotateApiKey(api_key_pb2.RotateApiKeyRequest(name=f"{b.name}/apiKeys/{k}", grace_period=duration_pb2.Duration(seconds=60)))),
        ("RotateApiKey (B's key under A)", NF, lambda s, b, u, k, a: s.api_keys.RotateApiKey(api_key_pb2.RotateApiKeyRequest(name=f"{a.name}/apiKeys/{k}"))),
        ("ListAuditEntries", NF, lambda s, b, u, k, a: s.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(parent=b.name))),
    ]  # fmt: skip


async def snapshot(ids: IdentityServer, b: Tenant) -> tuple[Any, ...]:
    """Everything of B that A's calls could have changed."""
    op = bearer(await ids.operator_key())
    s = ids.stubs
    tenant = await s.tenants.GetTenant(tenant_pb2.GetTenantRequest(name=b.name), metadata=op)
    async with ids.identity.store.privileged() as uow:
        members = await uow.memberships.list(
            b.id, limit=100, after_email=None, include_deactivated=True
        )
        keys = await uow.api_keys.list(b.id, limit=100, before_id=None, active_at=None)
    return (
        tenant.SerializeToString(),
        [(m.user_id, m.role, m.state, m.display_name, m.version) for m in members],
        [(k.id, k.state, k.secret_hash, k.previous_secret_hash) for k in keys],
    )


@pytest.mark.parametrize("credential", ["user", "api_key"])
async def test_tenant_a_cannot_see_or_touch_tenant_b(ids: IdentityServer, credential: str) -> None:
    a, b = await ids.tenant(), await ids.tenant()
    if credential == "user":
        token = (await ids.login(a.owner_email)).tokens.access_token
    else:
        token = a.api_key
    b_key_id = b.api_key_name.rsplit("/", 1)[1]
    before = await snapshot(ids, b)
    leaks = []
    for label, code, call in cases():
        failure = await fails(_call(call, ids, b, b_key_id, a, token))
        if failure.code != code:
            leaks.append(f"{label}: {failure.code} {failure.message}")
        # Nothing of B in the answer but the name that was asked for.
        for secret in (b.owner_email, b.api_key, "Tenant " + b.id):
            assert secret not in failure.message, label
    assert leaks == []
    assert await snapshot(ids, b) == before
    # B still works; A's principal is A.
    me = await ids.stubs.auth.GetPrincipal(
        auth_pb2.GetPrincipalRequest(), metadata=bearer(b.api_key)
    )
    assert me.tenant == b.name
    me = await ids.stubs.auth.GetPrincipal(auth_pb2.GetPrincipalRequest(), metadata=bearer(token))
    assert me.tenant == a.name


def _call(
    call: Callable[..., Any], ids: IdentityServer, b: Tenant, key_id: str, a: Tenant, token: str
) -> Any:
    """Build the call with A's credentials attached."""
    return call(_WithMetadata(ids.stubs, bearer(token)), b, b.owner_user_id, key_id, a)


class _WithMetadata:
    """The stubs, with every call carrying ``metadata``."""

    def __init__(self, stubs: Any, metadata: Any) -> None:
        self._stubs, self._metadata = stubs, metadata

    def __getattr__(self, service: str) -> Any:
        stub, metadata = getattr(self._stubs, service), self._metadata

        class _Bound:
            def __getattr__(self, method: str) -> Any:
                return lambda request: getattr(stub, method)(request, metadata=metadata)

        return _Bound()


async def test_login_to_another_tenant_is_refused(ids: IdentityServer) -> None:
    a, b = await ids.tenant(), await ids.tenant()
    failure = await fails(ids.login(a.owner_email, tenant=b.name))
    assert failure.code == PD
    assert failure.message == f"you are not a user of {b.name}"
