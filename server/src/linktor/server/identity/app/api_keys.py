"""Use cases of API keys: create (secret shown once), get, list, revoke, rotate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from linktor.server.identity.app.audit_log import Act
from linktor.server.identity.app.plans import PlanLimits
from linktor.server.identity.app.ports import Credentials, IdentityStore, IdentityUnitOfWork
from linktor.server.identity.domain.api_key import (
    ApiKey,
    ApiKeyState,
    covers,
    validate_scopes,
)
from linktor.server.identity.domain.audit import AuditAction
from linktor.server.identity.domain.plan import Limit
from linktor.server.identity.domain.user import validate_display_name
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import InvalidArgument, NotFound, PermissionDenied
from linktor.server.shared.ids import new_id
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal


@dataclass(frozen=True)
class IssuedKey:
    """A key with its secret, which exists only in this response."""

    key: ApiKey
    secret: str


async def issue_api_key(
    uow: IdentityUnitOfWork,
    credentials: Credentials,
    *,
    tenant_id: str,
    display_name: str,
    scopes: frozenset[str],
    expire_time: datetime | None,
    creator: str,
    now: datetime,
) -> IssuedKey:
    prefix, secret = credentials.new_api_key()
    key = ApiKey(
        id=new_id(),
        tenant_id=tenant_id,
        display_name=display_name,
        prefix=prefix,
        secret_hash=credentials.hash(secret),
        scopes=scopes,
        state=ApiKeyState.ACTIVE,
        create_time=now,
        creator=creator,
        expire_time=expire_time,
    )
    await uow.api_keys.add(key)
    return IssuedKey(key, secret)


class ApiKeyAdmin:
    def __init__(
        self,
        store: IdentityStore,
        credentials: Credentials,
        plans: PlanLimits,
        clock: Clock,
        on_change: Callable[[ApiKey], None] = lambda _key: None,
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._plans = plans
        self._clock = clock
        # Told about every revoked or rotated key (drops it from the authentication cache).
        self._on_change = on_change

    async def create(
        self,
        principal: Principal,
        tenant_id: str,
        *,
        display_name: str,
        scopes: list[str],
        expire_time: datetime | None,
        client_address: str = "",
    ) -> IssuedKey:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        wanted = validate_scopes(scopes)
        if principal.api_key_id is not None and not covers(principal.scopes, wanted):
            raise PermissionDenied("an API key cannot create a key with scopes it does not have")
        name = validate_display_name(display_name, "api_key.display_name")
        now = self._clock.now()
        if expire_time is not None and expire_time <= now:
            raise InvalidArgument.for_field("api_key.expire_time", "must be in the future")
        plan = await self._plans.plan_of(tenant_id)
        async with self._store.scoped(tenant_id) as uow:
            await uow.tenants.lock(tenant_id)
            plan.check(Limit.API_KEYS, await uow.api_keys.count_active(tenant_id, now))
            issued = await issue_api_key(
                uow,
                self._credentials,
                tenant_id=tenant_id,
                display_name=name,
                scopes=wanted,
                expire_time=expire_time,
                creator=principal.actor,
                now=now,
            )
            await Act(principal.actor, client_address, now).record(
                uow,
                tenant_id,
                AuditAction.API_KEY_CREATE,
                issued.key.name,
                details={"scopes": " ".join(sorted(wanted)), "prefix": issued.key.prefix},
            )
            await uow.commit()
        return issued

    async def _load(self, uow: IdentityUnitOfWork, tenant_id: str, key_id: str) -> ApiKey:
        key = await uow.api_keys.get(tenant_id, key_id)
        if key is None:
            raise NotFound(f"tenants/{tenant_id}/apiKeys/{key_id} not found")
        return key

    async def get(self, principal: Principal, tenant_id: str, key_id: str) -> ApiKey:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/apiKeys/{key_id}")
        async with self._store.scoped(tenant_id) as uow:
            return await self._load(uow, tenant_id, key_id)

    async def list(
        self, principal: Principal, tenant_id: str, *, size: int, token: str, show_inactive: bool
    ) -> tuple[list[ApiKey], str]:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        limit = page_size(size)
        filters = {"tenant": tenant_id, "inactive": show_inactive}
        position = PageToken.decode(token, filters)
        now = self._clock.now()
        async with self._store.scoped(tenant_id) as uow:
            keys = await uow.api_keys.list(
                tenant_id,
                limit=limit + 1,
                before_id=str(position.last[0]) if position else None,
                active_at=None if show_inactive else now,
            )
        next_token = ""
        if len(keys) > limit:
            keys = keys[:limit]
            next_token = PageToken([keys[-1].id], fingerprint(filters)).encode()
        return keys, next_token

    async def revoke(
        self, principal: Principal, tenant_id: str, key_id: str, client_address: str = ""
    ) -> ApiKey:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/apiKeys/{key_id}")
        now = self._clock.now()
        async with self._store.scoped(tenant_id) as uow:
            key = await self._load(uow, tenant_id, key_id)
            if key.state is ApiKeyState.REVOKED:
                return key
            revoked = key.revoke(now)
            await uow.api_keys.update(revoked)
            await Act(principal.actor, client_address, now).record(
                uow, tenant_id, AuditAction.API_KEY_REVOKE, key.name
            )
            await uow.commit()
        self._on_change(revoked)
        return revoked

    async def rotate(
        self,
        principal: Principal,
        tenant_id: str,
        key_id: str,
        *,
        grace: timedelta,
        client_address: str = "",
    ) -> IssuedKey:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/apiKeys/{key_id}")
        now = self._clock.now()
        async with self._store.scoped(tenant_id) as uow:
            key = await self._load(uow, tenant_id, key_id)
            secret = self._credentials.new_secret_for(key.prefix)
            rotated = key.rotate(self._credentials.hash(secret), grace, now)
            await uow.api_keys.update(rotated)
            await Act(principal.actor, client_address, now).record(
                uow,
                tenant_id,
                AuditAction.API_KEY_ROTATE,
                key.name,
                details={"grace_seconds": int(grace.total_seconds())},
            )
            await uow.commit()
        self._on_change(rotated)
        return IssuedKey(rotated, secret)
