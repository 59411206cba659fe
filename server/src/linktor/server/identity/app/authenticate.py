"""Authentication and authorization of one call, whatever the transport (gRPC interceptor,
REST gateway, WebSockets): ``authorization`` header -> Principal, or a DomainError.

Credentials are looked up through a short in-process cache (``cache_ttl``): a revoked or
rotated key, a deactivated user, a changed role or a suspended tenant is noticed by every
replica within that many seconds, and at once by the replica that made the change.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

from linktor.server.identity.app.authorization import Rule, authorize, rpc_label
from linktor.server.identity.app.ports import AccessTokens, Credentials, IdentityStore
from linktor.server.identity.app.sessions import USER_DEACTIVATED, suspended_error
from linktor.server.identity.app.ttl_cache import TtlCache
from linktor.server.identity.domain.api_key import ApiKey, ApiKeyState
from linktor.server.identity.domain.operator import OperatorKey
from linktor.server.identity.domain.session import AccessClaims
from linktor.server.identity.domain.tenant import Tenant, TenantState
from linktor.server.identity.domain.user import Membership, UserState
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.logs import get_logger
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import PermissionDenied, ResourceExhausted, Unauthenticated
from linktor.server.shared.principal import ANONYMOUS, Principal

log = get_logger(__name__)

HOW_TO = "send `authorization: Bearer <access token or API key>`"
LAST_USE_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class AuthPolicy:
    cache_ttl: float = 5.0
    tenant_rate: float = 100.0
    tenant_burst: int = 200
    api_key_rate: float = 50.0
    api_key_burst: int = 100


def bearer_token(authorization: str | None) -> str:
    """The token of an ``authorization`` value; Unauthenticated naming what is wrong."""
    if not authorization:
        raise Unauthenticated(f"this call needs credentials: {HOW_TO}")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthenticated(f"the authorization metadata is malformed: {HOW_TO}")
    return token


class Authenticator:
    def __init__(
        self,
        store: IdentityStore,
        credentials: Credentials,
        tokens: AccessTokens,
        rate_limiter: RateLimiter,
        clock: Clock,
        rules: Mapping[str, Rule],
        policy: AuthPolicy | None = None,
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._tokens = tokens
        self._limiter = rate_limiter
        self._clock = clock
        self._rules = rules
        self._policy = policy = policy or AuthPolicy()
        self._keys: TtlCache[str, ApiKey | None] = TtlCache(policy.cache_ttl)
        self._operators: TtlCache[str, OperatorKey | None] = TtlCache(policy.cache_ttl)
        self._members: TtlCache[tuple[str, str], Membership | None] = TtlCache(policy.cache_ttl)
        self._tenants: TtlCache[str, Tenant | None] = TtlCache(policy.cache_ttl)
        self._last_touch: TtlCache[str, bool] = TtlCache(LAST_USE_EVERY_SECONDS)
        # Verified access tokens (the same bytes verify the same way; expiry still checked).
        self._verified: TtlCache[str, AccessClaims] = TtlCache(max(policy.cache_ttl, 0.0))
        self._background: set[asyncio.Task[None]] = set()

    def rule_for(self, method: str) -> Rule | None:
        return self._rules.get(method)

    async def authenticate(
        self, authorization: str | None, method: str, client_address: str = ""
    ) -> Principal:
        """The principal allowed to call ``method`` (``/pkg.Service/Method``) with these
        credentials; Unauthenticated, PermissionDenied or ResourceExhausted otherwise."""
        rule = self._rules.get(method)
        if rule is None:
            raise PermissionDenied(f"{rpc_label(method)} has no permission rule; it is refused")
        if rule.public:
            return ANONYMOUS
        principal = await self.resolve(bearer_token(authorization))
        authorize(rule, principal, method)
        await self._limit(principal)
        return principal

    async def resolve(self, token: str) -> Principal:
        """The principal of a bearer token (no per-RPC rule, no rate limit)."""
        if token.startswith("lko_"):
            return await self._operator(token)
        if token.startswith("lk_"):
            principal = await self._api_key(token)
        elif token.count(".") == 2:
            principal = await self._user(token)
        else:
            raise Unauthenticated(
                "the bearer token is neither an access token (JWT) nor an API key (lk_...)"
            )
        await self._check_tenant(principal.tenant())
        return principal

    # -- credentials -------------------------------------------------------------------

    async def _api_key(self, secret: str) -> Principal:
        prefix = self._credentials.api_key_prefix(secret)
        if prefix is None:
            raise Unauthenticated("the API key is malformed; copy it again from where you saved it")
        found, key = self._keys.get(prefix)
        if not found:
            async with self._store.privileged() as uow:
                key = await uow.api_keys.get_by_prefix(prefix)
            self._keys.put(prefix, key)
        now = self._clock.now()
        if key is None:
            raise Unauthenticated(f"the API key {prefix}... does not exist")
        if not key.secret_matches(self._credentials.hash(secret), now):
            raise Unauthenticated(
                f"the secret of API key {prefix}... is not valid (it may have been rotated)"
            )
        state = key.state_at(now)
        if state is ApiKeyState.REVOKED:
            raise Unauthenticated(f"the API key {prefix}... was revoked")
        if state is ApiKeyState.EXPIRED:
            raise Unauthenticated(f"the API key {prefix}... expired at {key.expire_time}")
        self._touch(key)
        return Principal(tenant_id=key.tenant_id, api_key_id=key.id, scopes=key.scopes)

    def _touch(self, key: ApiKey) -> None:
        """Record last_use_time at most once a minute per key and replica, off the call."""
        if self._last_touch.get(key.id)[0]:
            return
        self._last_touch.put(key.id, True)

        async def touch() -> None:
            try:
                async with self._store.scoped(key.tenant_id) as uow:
                    await uow.api_keys.touch(key.tenant_id, key.id, self._clock.now())
                    await uow.commit()
            except Exception as exc:
                log.warning("could not record API key use", api_key=key.name, error=str(exc))

        task = asyncio.create_task(touch())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _user(self, token: str) -> Principal:
        found, claims = self._verified.get(token)
        if not found or claims is None:
            claims = self._tokens.verify(token)
            self._verified.put(token, claims)
        elif claims.expire_time <= self._clock.now():
            self._verified.drop(token)
            claims = self._tokens.verify(token)  # raises: expired
        cache_key = (claims.tenant_id, claims.user_id)
        found, member = self._members.get(cache_key)
        if not found:
            async with self._store.scoped(claims.tenant_id) as uow:
                member = await uow.memberships.get(claims.tenant_id, claims.user_id)
            self._members.put(cache_key, member)
        if member is None:
            raise Unauthenticated("the user of this access token no longer exists")
        if member.state is not UserState.ACTIVE:
            raise PermissionDenied(
                f"your user is deactivated in tenants/{member.tenant_id}", reason=USER_DEACTIVATED
            )
        return Principal(
            tenant_id=member.tenant_id,
            user_id=member.user_id,
            role=member.role,
            email=member.email,
            session_id=claims.session_id,
        )

    async def _operator(self, secret: str) -> Principal:
        prefix = self._credentials.operator_key_prefix(secret)
        if prefix is None:
            raise Unauthenticated("the operator key is malformed")
        found, key = self._operators.get(prefix)
        if not found:
            async with self._store.privileged() as uow:
                key = await uow.operator_keys.get_by_prefix(prefix)
            self._operators.put(prefix, key)
        if key is None or not key.accepts(self._credentials.hash(secret)):
            raise Unauthenticated("the operator key is not valid or was revoked")
        return Principal(tenant_id=None, platform_operator=True, email=key.display_name)

    async def _check_tenant(self, tenant_id: str) -> None:
        found, tenant = self._tenants.get(tenant_id)
        if not found:
            async with self._store.scoped(tenant_id) as uow:
                tenant = await uow.tenants.get(tenant_id)
            self._tenants.put(tenant_id, tenant)
        if tenant is None:
            raise Unauthenticated(f"tenants/{tenant_id} of these credentials no longer exists")
        if tenant.state is TenantState.SUSPENDED:
            raise suspended_error(tenant.id, tenant.suspend_reason)

    # -- rate limits -------------------------------------------------------------------

    async def _limit(self, principal: Principal) -> None:
        policy = self._policy
        if principal.api_key_id is not None:
            await self._take(
                f"rl:api_key:{principal.api_key_id}",
                policy.api_key_rate,
                policy.api_key_burst,
                "api_key",
            )
        if principal.tenant_id is not None:
            await self._take(
                f"rl:tenant:{principal.tenant_id}",
                policy.tenant_rate,
                policy.tenant_burst,
                "tenant",
            )

    async def _take(self, key: str, rate: float, burst: int, what: str) -> None:
        decision = await self._limiter.acquire(key, rate=rate, burst=burst)
        if decision.allowed:
            return
        subject = "this API key" if what == "api_key" else "this tenant"
        raise ResourceExhausted(
            f"rate limit of {subject} exceeded ({rate:g} calls/s, bursts of {burst});"
            f" retry in {decision.retry_after:.3f} s",
            retry_after=decision.retry_after,
            metadata={
                "limit": what,
                "rate_per_second": f"{rate:g}",
                "burst": str(burst),
                "remaining": str(decision.remaining),
            },
        )

    # -- invalidation (the replica that made a change forgets at once) -------------------

    def forget_api_key(self, prefix: str) -> None:
        self._keys.drop(prefix)

    def forget_operator_key(self, prefix: str) -> None:
        self._operators.drop(prefix)

    def forget_member(self, tenant_id: str, user_id: str) -> None:
        self._members.drop((tenant_id, user_id))

    def forget_tenant(self, tenant_id: str) -> None:
        self._tenants.drop(tenant_id)

    async def drain(self) -> None:
        """Wait for background writes (last use times); for shutdown and tests."""
        started = time.monotonic()
        while self._background and time.monotonic() - started < 5:
            await asyncio.gather(*list(self._background), return_exceptions=True)
