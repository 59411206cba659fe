"""Use cases of a tenant's users: create (or invite), get, list, update, deactivate,
reactivate. Admins manage everyone but owners; only owners touch owners; the last owner
stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from linktor.server.identity.app.audit_log import Act
from linktor.server.identity.app.plans import PlanLimits
from linktor.server.identity.app.ports import IdentityStore, IdentityUnitOfWork, PasswordHasher
from linktor.server.identity.domain.audit import AuditAction
from linktor.server.identity.domain.plan import Limit
from linktor.server.identity.domain.user import (
    Membership,
    User,
    UserState,
    normalize_email,
    validate_display_name,
    validate_password,
)
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from linktor.server.shared.idempotency import (
    ConcurrentRequest,
    IdempotencyRecord,
    first_result,
)
from linktor.server.shared.ids import new_id
from linktor.server.shared.names import USER
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal, Role

CREATE_USER = "CreateUser"
MAX_REQUEST_ID = 128


def actor_role(principal: Principal) -> Role | None:
    """The role a principal acts with when managing users (None: operators, unrestricted).
    API keys act as admins: they never manage owners."""
    if principal.platform_operator:
        return None
    if principal.api_key_id is not None:
        return Role.ADMIN
    return principal.role


def check_etag(etag: str, current: str, name: str) -> None:
    if etag and etag != current:
        raise Aborted(f"{name} has changed since it was read (etag {etag} != {current})")


async def add_member(
    uow: IdentityUnitOfWork,
    *,
    tenant_id: str,
    email: str,
    display_name: str,
    role: Role,
    password_hash: str | None,
    now: datetime,
) -> Membership:
    """Add the person with ``email`` (created with ``password_hash`` if new) to the tenant.
    Hash the password BEFORE the transaction: Argon2 is slow on purpose."""
    user = await uow.users.get_by_email(email)
    if user is None:
        user = User(new_id(), email, password_hash, now, now)
        await uow.users.add(user)
    elif password_hash:
        raise InvalidArgument.for_field(
            "user.password",
            "this email already has a Linktor account with its own password; leave it empty",
        )
    state = UserState.ACTIVE if user.password_hash else UserState.INVITED
    membership = Membership(tenant_id, user.id, email, display_name, role, state, now, now)
    await uow.memberships.add(membership)
    return membership


class UserAdmin:
    def __init__(
        self,
        store: IdentityStore,
        passwords: PasswordHasher,
        plans: PlanLimits,
        clock: Clock,
        on_change: Callable[[str, str], None] = lambda _tenant, _user: None,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._plans = plans
        self._clock = clock
        self._on_change = on_change

    async def create(
        self,
        principal: Principal,
        tenant_id: str,
        *,
        email: str,
        display_name: str,
        role: Role | None,
        password: str,
        request_id: str = "",
        request_hash: str = "",
        client_address: str = "",
    ) -> Membership:
        """The new user; a ``request_id`` seen before returns the user its first call made."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        email = normalize_email(email)
        name = validate_display_name(display_name)
        if role is None:
            raise InvalidArgument.for_field(
                "user.role", "is required: OWNER, ADMIN, AGENT or VIEWER"
            )
        if password:
            validate_password(password)
        acting = actor_role(principal)
        if role == Role.OWNER and acting not in (None, Role.OWNER):
            raise PermissionDenied("only an owner can add an owner")
        if len(request_id) > MAX_REQUEST_ID:
            raise InvalidArgument.for_field("request_id", f"at most {MAX_REQUEST_ID} characters")
        if request_id:
            async with self._store.scoped(tenant_id) as uow:
                earlier = await self._replay(uow, tenant_id, request_id, request_hash)
            if earlier is not None:
                return earlier
        password_hash = await self._passwords.hash(password) if password else None
        plan = await self._plans.plan_of(tenant_id)
        now = self._clock.now()
        try:
            async with self._store.scoped(tenant_id) as uow:
                await uow.tenants.lock(tenant_id)
                if request_id:
                    earlier = await self._replay(uow, tenant_id, request_id, request_hash)
                    if earlier is not None:
                        return earlier
                plan.check(Limit.AGENTS, await uow.memberships.count(tenant_id))
                member = await add_member(
                    uow,
                    tenant_id=tenant_id,
                    email=email,
                    display_name=name,
                    role=role,
                    password_hash=password_hash,
                    now=now,
                )
                await Act(principal.actor, client_address, now).record(
                    uow,
                    tenant_id,
                    AuditAction.USER_CREATE,
                    member.name,
                    details={"role": role.value, "state": member.state.value},
                )
                if request_id:
                    record = IdempotencyRecord(request_hash, member.name)
                    await uow.idempotency.put(tenant_id, CREATE_USER, request_id, record, now)
                await uow.commit()
        except ConcurrentRequest:
            async with self._store.scoped(tenant_id) as uow:
                earlier = await self._replay(uow, tenant_id, request_id, request_hash)
            if earlier is None:
                raise
            return earlier
        return member

    async def _replay(
        self, uow: IdentityUnitOfWork, tenant_id: str, request_id: str, request_hash: str
    ) -> Membership | None:
        """The user a first call with ``request_id`` created, if there was one."""
        name = await first_result(
            uow.idempotency, tenant_id, CREATE_USER, request_id, request_hash, self._clock.now()
        )
        return None if name is None else await self._load(uow, tenant_id, USER.parse(name)["user"])

    async def _load(self, uow: IdentityUnitOfWork, tenant_id: str, user_id: str) -> Membership:
        member = await uow.memberships.get(tenant_id, user_id)
        if member is None:
            raise NotFound(f"tenants/{tenant_id}/users/{user_id} not found")
        return member

    async def get(self, principal: Principal, tenant_id: str, user_id: str) -> Membership:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/users/{user_id}")
        async with self._store.scoped(tenant_id) as uow:
            return await self._load(uow, tenant_id, user_id)

    async def list(
        self,
        principal: Principal,
        tenant_id: str,
        *,
        size: int,
        token: str,
        show_deactivated: bool,
    ) -> tuple[list[Membership], str]:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        limit = page_size(size)
        filters = {"tenant": tenant_id, "deactivated": show_deactivated}
        position = PageToken.decode(token, filters)
        async with self._store.scoped(tenant_id) as uow:
            members = await uow.memberships.list(
                tenant_id,
                limit=limit + 1,
                after_email=str(position.last[0]) if position else None,
                include_deactivated=show_deactivated,
            )
        next_token = ""
        if len(members) > limit:
            members = members[:limit]
            next_token = PageToken([members[-1].email], fingerprint(filters)).encode()
        return members, next_token

    async def _keep_an_owner(self, uow: IdentityUnitOfWork, member: Membership) -> None:
        if member.role != Role.OWNER or member.state is UserState.DEACTIVATED:
            return
        if await uow.memberships.count(member.tenant_id, role=Role.OWNER.value) <= 1:
            raise FailedPrecondition(
                f"{member.name} is the tenant's last owner; make someone else owner first"
            )

    async def update(
        self,
        principal: Principal,
        tenant_id: str,
        user_id: str,
        *,
        display_name: str | None,
        role: Role | None,
        etag: str = "",
        client_address: str = "",
    ) -> Membership:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/users/{user_id}")
        now = self._clock.now()
        async with self._store.scoped(tenant_id) as uow:
            member = await self._load(uow, tenant_id, user_id)
            check_etag(etag, member.etag, member.name)
            changed = member
            if display_name is not None:
                changed = changed.rename(display_name, now)
            if role is not None and role != member.role:
                changed = changed.change_role(role, actor_role=actor_role(principal), now=now)
                if member.role == Role.OWNER:
                    await self._keep_an_owner(uow, member)
            if changed == member:
                return member
            saved = await uow.memberships.update(changed, expected_version=member.version)
            if role is not None and role != member.role:
                await Act(principal.actor, client_address, now).record(
                    uow,
                    tenant_id,
                    AuditAction.USER_ROLE_CHANGE,
                    member.name,
                    details={"from": member.role.value, "to": role.value},
                )
            await uow.commit()
        self._on_change(tenant_id, user_id)
        return saved

    async def deactivate(
        self, principal: Principal, tenant_id: str, user_id: str, client_address: str = ""
    ) -> Membership:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/users/{user_id}")
        now = self._clock.now()
        async with self._store.scoped(tenant_id) as uow:
            member = await self._load(uow, tenant_id, user_id)
            changed = member.deactivate(actor_role=actor_role(principal), now=now)
            await self._keep_an_owner(uow, member)
            saved = await uow.memberships.update(changed, expected_version=member.version)
            await uow.refresh_tokens.revoke_for_user(tenant_id, user_id, now)
            await Act(principal.actor, client_address, now).record(
                uow, tenant_id, AuditAction.USER_DEACTIVATE, member.name
            )
            await uow.commit()
        self._on_change(tenant_id, user_id)
        return saved

    async def reactivate(
        self, principal: Principal, tenant_id: str, user_id: str, client_address: str = ""
    ) -> Membership:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/users/{user_id}")
        now = self._clock.now()
        plan = await self._plans.plan_of(tenant_id)
        async with self._store.scoped(tenant_id) as uow:
            member = await self._load(uow, tenant_id, user_id)
            acting = actor_role(principal)
            if member.role == Role.OWNER and acting not in (None, Role.OWNER):
                raise PermissionDenied("only an owner can reactivate an owner")
            user = await uow.users.get(user_id)
            changed = member.reactivate(has_password=bool(user and user.password_hash), now=now)
            await uow.tenants.lock(tenant_id)
            plan.check(Limit.AGENTS, await uow.memberships.count(tenant_id))
            saved = await uow.memberships.update(changed, expected_version=member.version)
            await Act(principal.actor, client_address, now).record(
                uow, tenant_id, AuditAction.USER_REACTIVATE, member.name
            )
            await uow.commit()
        self._on_change(tenant_id, user_id)
        return saved
