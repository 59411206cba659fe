"""The Authenticator with in-memory fakes of its ports (no database, no network): header
parsing, credential resolution, the cache bound on revocation, rate limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, cast

import pytest

from linktor.server.identity.adapters.jwt_tokens import JwtAccessTokens
from linktor.server.identity.adapters.secrets import Sha256Credentials
from linktor.server.identity.api.permissions import PERMISSIONS
from linktor.server.identity.app.authenticate import Authenticator, AuthPolicy, bearer_token
from linktor.server.identity.app.ports import IdentityStore
from linktor.server.identity.domain.api_key import ApiKey, ApiKeyState
from linktor.server.identity.domain.operator import OperatorKey
from linktor.server.identity.domain.session import AccessClaims
from linktor.server.identity.domain.tenant import Tenant
from linktor.server.identity.domain.user import Membership, UserState
from linktor.server.infra.cache.memory import MemoryRateLimiter
from linktor.server.shared.clock import FakeClock
from linktor.server.shared.errors import PermissionDenied, ResourceExhausted, Unauthenticated
from linktor.server.shared.principal import ANONYMOUS, Role

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)
GET_PRINCIPAL = "/linktor.v1.AuthService/GetPrincipal"
CREATE_KEY = "/linktor.v1.ApiKeyService/CreateApiKey"


class FakeData:
    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.members: dict[tuple[str, str], Membership] = {}
        self.tenants: dict[str, Tenant] = {}
        self.operators: dict[str, OperatorKey] = {}
        self.reads = 0
        self.touched: list[str] = []


class _Repos:
    """The repositories the Authenticator uses, over FakeData."""

    def __init__(self, data: FakeData) -> None:
        self.d = data

    async def get_by_prefix(self, prefix: str) -> Any:
        self.d.reads += 1
        return self.d.keys.get(prefix) or self.d.operators.get(prefix)

    async def get(self, tenant_id: str, user_id: str | None = None) -> Any:
        self.d.reads += 1
        if user_id is None:
            return self.d.tenants.get(tenant_id)
        return self.d.members.get((tenant_id, user_id))

    async def touch(self, tenant_id: str, key_id: str, now: datetime) -> None:
        self.d.touched.append(key_id)


class FakeUnitOfWork:
    def __init__(self, data: FakeData) -> None:
        repos = _Repos(data)
        self.api_keys = self.operator_keys = self.memberships = self.tenants = repos

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        return None


class FakeStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def scoped(self, tenant_id: str) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.data)

    def privileged(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.data)


CREDENTIALS = Sha256Credentials()
TOKENS = JwtAccessTokens(
    algorithm="HS256", signing_key=b"k" * 32, verification_key=b"k" * 32, issuer="i", audience="a"
)


def setup(policy: AuthPolicy | None = None) -> tuple[Authenticator, FakeData, str]:
    data = FakeData()
    data.tenants["acme"] = Tenant.create("acme", "Acme", "free", NOW)
    prefix, secret = CREDENTIALS.new_api_key()
    data.keys[prefix] = ApiKey(
        "k1",
        "acme",
        "",
        prefix,
        CREDENTIALS.hash(secret),
        frozenset({"users:read"}),
        ApiKeyState.ACTIVE,
        NOW,
    )
    data.members[("acme", "u1")] = Membership(
        "acme", "u1", "a@acme.example", "", Role.AGENT, UserState.ACTIVE, NOW, NOW
    )
    auth = Authenticator(
        cast(IdentityStore, FakeStore(data)),
        CREDENTIALS,
        TOKENS,
        MemoryRateLimiter(),
        FakeClock(NOW),
        PERMISSIONS,
        policy or AuthPolicy(cache_ttl=60),
    )
    return auth, data, secret


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    for bad in (None, "", "Bearer", "Basic abc", "Bearer a b"):
        with pytest.raises(Unauthenticated):
            bearer_token(bad)


async def test_public_rpcs_need_nothing_and_unknown_rpcs_are_refused() -> None:
    auth, _data, _secret = setup()
    assert await auth.authenticate(None, "/linktor.v1.AuthService/Login") is ANONYMOUS
    with pytest.raises(PermissionDenied, match="has no permission rule"):
        await auth.authenticate("Bearer x", "/linktor.v1.NewService/Unknown")


async def test_api_key_resolution_is_cached_and_forgotten_on_change() -> None:
    auth, data, secret = setup()
    principal = await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)
    assert (principal.tenant_id, principal.api_key_id) == ("acme", "k1")
    reads = data.reads
    await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)
    assert data.reads == reads  # served from the cache
    await auth.drain()
    assert data.touched == ["k1"]  # last use recorded once
    # Revoked elsewhere: accepted until the cache entry ages out (the documented bound) ...
    prefix = CREDENTIALS.api_key_prefix(secret)
    assert prefix is not None
    data.keys[prefix] = data.keys[prefix].revoke(NOW)
    await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)
    # ... and refused at once when this replica is told.
    auth.forget_api_key(prefix)
    with pytest.raises(Unauthenticated, match="was revoked"):
        await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)


async def test_missing_scope_and_user_roles() -> None:
    auth, _data, secret = setup()
    with pytest.raises(PermissionDenied, match="lacks the scope 'api_keys:write'"):
        await auth.authenticate(f"Bearer {secret}", CREATE_KEY)
    token = TOKENS.issue(AccessClaims("u1", "acme", "s1", NOW, NOW.replace(year=2099)))
    principal = await auth.authenticate(f"Bearer {token}", GET_PRINCIPAL)
    assert (principal.user_id, principal.role) == ("u1", Role.AGENT)
    with pytest.raises(PermissionDenied, match="requires the admin role or higher; yours is agent"):
        await auth.authenticate(f"Bearer {token}", CREATE_KEY)


async def test_suspended_tenant_and_rate_limit() -> None:
    auth, data, secret = setup(AuthPolicy(cache_ttl=0, tenant_rate=1, tenant_burst=2))
    await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)
    await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)
    with pytest.raises(ResourceExhausted) as info:
        await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)
    assert info.value.retry_after is not None and info.value.retry_after > 0
    assert info.value.metadata["limit"] == "tenant"
    data.tenants["acme"] = replace(data.tenants["acme"]).suspend("fraud review", NOW)
    with pytest.raises(PermissionDenied) as suspended:
        await auth.authenticate(f"Bearer {secret}", GET_PRINCIPAL)
    assert suspended.value.reason == "TENANT_SUSPENDED"
