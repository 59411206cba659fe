"""Use cases of tenants: the operator API (create, list, suspend, reactivate, change plan),
owners reading and renaming their own, and the server-side bootstrap of a new tenant with
its owner and first API key (``linktor tenant create``)."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, replace

from linktor.server.identity.app.api_keys import IssuedKey, issue_api_key
from linktor.server.identity.app.audit_log import record
from linktor.server.identity.app.plans import PlanCatalog
from linktor.server.identity.app.ports import (
    Credentials,
    IdentityStore,
    IdentityUnitOfWork,
    PasswordHasher,
)
from linktor.server.identity.app.users import MAX_REQUEST_ID, add_member, check_etag
from linktor.server.identity.domain.api_key import ALL_SCOPES
from linktor.server.identity.domain.audit import AuditAction
from linktor.server.identity.domain.tenant import Tenant, TenantState
from linktor.server.identity.domain.user import (
    Membership,
    normalize_email,
    validate_password,
)
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import InvalidArgument, NotFound, PermissionDenied
from linktor.server.shared.idempotency import (
    ConcurrentRequest,
    IdempotencyRecord,
    first_result,
)
from linktor.server.shared.names import TENANT
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal, Role

OPERATOR = "operator"
CREATE_TENANT = "CreateTenant"
# Idempotency keys of operator calls belong to no tenant.
OPERATOR_KEYS = ""


def generated_tenant_id(display_name: str) -> str:
    """A readable, unique-enough id from the display name: ``acme-ltd-x7k2q9``."""
    slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")[:30].strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"t-{slug}".rstrip("-")
    alphabet = string.ascii_lowercase + string.digits
    return f"{slug}-{''.join(secrets.choice(alphabet) for _ in range(6))}"


def require_operator(principal: Principal) -> None:
    if not principal.platform_operator:
        raise PermissionDenied("only platform operators can do this")


@dataclass(frozen=True)
class BootstrappedTenant:
    tenant: Tenant
    owner: Membership
    api_key: IssuedKey


class TenantAdmin:
    def __init__(
        self,
        store: IdentityStore,
        catalog: PlanCatalog,
        passwords: PasswordHasher,
        credentials: Credentials,
        clock: Clock,
        on_change: Callable[[str], None] = lambda _tenant: None,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._passwords = passwords
        self._credentials = credentials
        self._clock = clock
        # Told about every suspended, reactivated or re-planned tenant (drops caches).
        self._on_change = on_change

    def _new_tenant(self, tenant_id: str, display_name: str, plan: str) -> Tenant:
        plan = plan or self._catalog.default
        self._catalog.get(plan)
        tenant_id = tenant_id or generated_tenant_id(display_name)
        return Tenant.create(tenant_id, display_name, plan, self._clock.now())

    async def create(
        self,
        principal: Principal,
        *,
        tenant_id: str,
        display_name: str,
        plan: str,
        request_id: str = "",
        request_hash: str = "",
        client_address: str = "",
    ) -> Tenant:
        require_operator(principal)
        if len(request_id) > MAX_REQUEST_ID:
            raise InvalidArgument.for_field("request_id", f"at most {MAX_REQUEST_ID} characters")
        tenant = self._new_tenant(tenant_id, display_name, plan)
        try:
            async with self._store.privileged() as uow:
                if request_id:
                    earlier = await self._replay(uow, request_id, request_hash)
                    if earlier is not None:
                        return earlier
                await uow.tenants.add(tenant)
                await self._audit(uow, tenant, AuditAction.TENANT_CREATE, OPERATOR, client_address)
                if request_id:
                    record = IdempotencyRecord(request_hash, tenant.name)
                    await uow.idempotency.put(
                        OPERATOR_KEYS, CREATE_TENANT, request_id, record, tenant.create_time
                    )
                await uow.commit()
        except ConcurrentRequest:
            async with self._store.privileged() as uow:
                earlier = await self._replay(uow, request_id, request_hash)
            if earlier is None:
                raise
            return earlier
        return tenant

    async def _replay(
        self, uow: IdentityUnitOfWork, request_id: str, request_hash: str
    ) -> Tenant | None:
        name = await first_result(
            uow.idempotency,
            OPERATOR_KEYS,
            CREATE_TENANT,
            request_id,
            request_hash,
            self._clock.now(),
        )
        return None if name is None else await self._load(uow, TENANT.parse(name)["tenant"])

    async def get(self, principal: Principal, tenant_id: str) -> Tenant:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        async with self._uow_for(principal, tenant_id) as uow:
            return await self._load(uow, tenant_id)

    async def list(
        self, principal: Principal, *, size: int, token: str, state: TenantState | None
    ) -> tuple[list[Tenant], str]:
        require_operator(principal)
        limit = page_size(size)
        filters = {"state": state.value if state else ""}
        position = PageToken.decode(token, filters)
        async with self._store.privileged() as uow:
            tenants = await uow.tenants.list(
                limit=limit + 1,
                after_id=str(position.last[0]) if position else None,
                state=state,
            )
        next_token = ""
        if len(tenants) > limit:
            tenants = tenants[:limit]
            next_token = PageToken([tenants[-1].id], fingerprint(filters)).encode()
        return tenants, next_token

    async def update(
        self,
        principal: Principal,
        tenant_id: str,
        *,
        display_name: str | None,
        plan: str | None,
        etag: str = "",
        client_address: str = "",
    ) -> Tenant:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        if plan is not None:
            require_operator(principal)
            self._catalog.get(plan)
        if display_name is not None:
            display_name = display_name.strip()
            if not display_name or len(display_name) > 200:
                raise InvalidArgument.for_field(
                    "tenant.display_name", "must be 1 to 200 characters"
                )
        now = self._clock.now()
        async with self._uow_for(principal, tenant_id) as uow:
            tenant = await self._load(uow, tenant_id)
            check_etag(etag, tenant.etag, tenant.name)
            changed = replace(
                tenant,
                display_name=display_name if display_name is not None else tenant.display_name,
                plan=plan if plan is not None else tenant.plan,
                update_time=now,
            )
            saved = await uow.tenants.update(changed, expected_version=tenant.version)
            details: dict[str, str | int | bool] = {}
            if plan is not None and plan != tenant.plan:
                details = {"plan_from": tenant.plan, "plan_to": plan}
            await self._audit(
                uow, saved, AuditAction.TENANT_UPDATE, principal.actor, client_address, details
            )
            await uow.commit()
        self._on_change(tenant_id)
        return saved

    async def suspend(
        self, principal: Principal, tenant_id: str, reason: str, client_address: str = ""
    ) -> Tenant:
        require_operator(principal)
        async with self._store.privileged() as uow:
            tenant = await self._load(uow, tenant_id)
            changed = tenant.suspend(reason, self._clock.now())
            saved = await uow.tenants.update(changed, expected_version=tenant.version)
            await self._audit(
                uow,
                saved,
                AuditAction.TENANT_SUSPEND,
                OPERATOR,
                client_address,
                {"reason": changed.suspend_reason},
            )
            await uow.commit()
        self._on_change(tenant_id)
        return saved

    async def reactivate(
        self, principal: Principal, tenant_id: str, client_address: str = ""
    ) -> Tenant:
        require_operator(principal)
        async with self._store.privileged() as uow:
            tenant = await self._load(uow, tenant_id)
            changed = tenant.reactivate(self._clock.now())
            saved = await uow.tenants.update(changed, expected_version=tenant.version)
            await self._audit(uow, saved, AuditAction.TENANT_REACTIVATE, OPERATOR, client_address)
            await uow.commit()
        self._on_change(tenant_id)
        return saved

    async def bootstrap(
        self,
        *,
        display_name: str,
        owner_email: str,
        owner_password: str = "",
        tenant_id: str = "",
        plan: str = "",
    ) -> BootstrappedTenant:
        """A new tenant, its owner and a first API key with every scope, in one transaction."""
        email = normalize_email(owner_email, "owner_email")
        if owner_password:
            validate_password(owner_password, "owner_password")
        tenant = self._new_tenant(tenant_id, display_name, plan)
        now = tenant.create_time
        password_hash = await self._passwords.hash(owner_password) if owner_password else None
        async with self._store.privileged() as uow:
            await uow.tenants.add(tenant)
            owner = await add_member(
                uow,
                tenant_id=tenant.id,
                email=email,
                display_name="",
                role=Role.OWNER,
                password_hash=password_hash,
                now=now,
            )
            issued = await issue_api_key(
                uow,
                self._credentials,
                tenant_id=tenant.id,
                display_name="first key (linktor tenant create)",
                scopes=frozenset({ALL_SCOPES}),
                expire_time=None,
                creator=OPERATOR,
                now=now,
            )
            await self._audit(uow, tenant, AuditAction.TENANT_CREATE, OPERATOR, "")
            await uow.commit()
        return BootstrappedTenant(tenant, owner, issued)

    def _uow_for(self, principal: Principal, tenant_id: str) -> IdentityUnitOfWork:
        if principal.platform_operator:
            return self._store.privileged()
        return self._store.scoped(tenant_id)

    async def _load(self, uow: IdentityUnitOfWork, tenant_id: str) -> Tenant:
        tenant = await uow.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"tenants/{tenant_id} not found")
        return tenant

    async def _audit(
        self,
        uow: IdentityUnitOfWork,
        tenant: Tenant,
        action: str,
        actor: str,
        client_address: str,
        details: dict[str, str | int | bool] | None = None,
    ) -> None:
        await record(
            uow,
            tenant_id=tenant.id,
            action=action,
            actor=actor,
            resource=tenant.name,
            now=self._clock.now(),
            client_address=client_address,
            details=details,
        )
