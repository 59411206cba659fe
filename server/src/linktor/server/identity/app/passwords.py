"""Setting and changing passwords: one-time setup tokens issued by a tenant's owners or
admins (an invited user's first password, or a reset), and a logged-in user changing their own.

A setup token is ``lkps_`` + 256 random bits, returned once and stored as its SHA-256 hash.
Issuing one revokes the person's earlier unused ones. A person who also belongs to another
tenant cannot get one from a tenant's admin: their password opens the other tenants too, which
this tenant's admins do not govern (they change it themselves, or an operator issues one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from linktor.server.identity.app.audit_log import Act
from linktor.server.identity.app.ports import (
    Credentials,
    IdentityStore,
    IdentityUnitOfWork,
    PasswordHasher,
)
from linktor.server.identity.app.sessions import suspended_error
from linktor.server.identity.app.users import actor_role
from linktor.server.identity.domain.audit import AuditAction
from linktor.server.identity.domain.password_setup import PasswordSetup
from linktor.server.identity.domain.tenant import TenantState
from linktor.server.identity.domain.user import Membership, UserState, validate_password
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from linktor.server.shared.ids import new_id
from linktor.server.shared.principal import Principal, Role

# The creator of tokens issued by platform operators (Principal.actor), who may reset people
# of several tenants.
OPERATOR = "operator"
_ASK = "ask an admin of your tenant for a new one"
TOKEN_NOT_VALID = f"the password setup token is not valid; {_ASK}"
TOKEN_USED = f"the password setup token was already used; {_ASK}"
TOKEN_REPLACED = (
    "the password setup token was replaced by a newer one or by a password change;"
    f" use the newest one or {_ASK}"
)
TOKEN_EXPIRED = f"the password setup token has expired; {_ASK}"


@dataclass(frozen=True)
class PasswordPolicy:
    setup_ttl: timedelta = timedelta(hours=72)
    attempts_per_account_per_minute: int = 10
    attempts_per_address_per_minute: int = 30


@dataclass(frozen=True)
class IssuedSetup:
    member: Membership
    token: str
    expire_time: datetime


class Passwords:
    def __init__(
        self,
        store: IdentityStore,
        passwords: PasswordHasher,
        credentials: Credentials,
        rate_limiter: RateLimiter,
        clock: Clock,
        policy: PasswordPolicy | None = None,
        on_change: Callable[[str, str], None] = lambda _tenant, _user: None,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._credentials = credentials
        self._limiter = rate_limiter
        self._clock = clock
        self._policy = policy or PasswordPolicy()
        self._on_change = on_change

    async def _limit(self, key: str, per_minute: int, what: str) -> None:
        decision = await self._limiter.acquire(key, rate=per_minute / 60.0, burst=per_minute)
        if not decision.allowed:
            raise ResourceExhausted(
                f"too many password attempts for {what}; retry in {decision.retry_after:.0f} s",
                retry_after=decision.retry_after,
                metadata={"limit": "password", "remaining": "0"},
            )

    # ------------------------------------------------------------------ issue (admins)

    async def issue(
        self, principal: Principal, tenant_id: str, user_id: str, client_address: str = ""
    ) -> IssuedSetup:
        """A new setup token for the user; earlier unused ones of the person stop working."""
        name = f"tenants/{tenant_id}/users/{user_id}"
        tenant_id = principal.own_tenant(tenant_id, name)
        now = self._clock.now()
        token = self._credentials.new_password_setup_token()
        expire_time = now + self._policy.setup_ttl
        # Privileged: the person's memberships in other tenants must be seen to refuse them.
        # Every query below names the caller's tenant or the person.
        async with self._store.privileged() as uow:
            member = await uow.memberships.get(tenant_id, user_id)
            if member is None:
                raise NotFound(f"{name} not found")
            acting = actor_role(principal)
            if member.role == Role.OWNER and acting not in (None, Role.OWNER):
                raise PermissionDenied("only an owner can issue a password setup for an owner")
            if member.state is UserState.DEACTIVATED:
                raise FailedPrecondition(
                    f"{name} is deactivated: reactivate the user (ReactivateUser) before"
                    " issuing a password setup"
                )
            if not principal.platform_operator:
                await self._only_here(uow, member)
            await uow.password_setups.revoke_unused(user_id, now)
            await uow.password_setups.add(
                PasswordSetup(
                    id=new_id(),
                    user_id=user_id,
                    tenant_id=tenant_id,
                    token_hash=self._credentials.hash(token),
                    creator=principal.actor,
                    create_time=now,
                    expire_time=expire_time,
                )
            )
            await Act(principal.actor, client_address, now).record(
                uow,
                tenant_id,
                AuditAction.USER_PASSWORD_SETUP_ISSUE,
                name,
                details={"state": member.state.value, "expire_time": expire_time.isoformat()},
            )
            await uow.commit()
        return IssuedSetup(member, token, expire_time)

    @staticmethod
    async def _only_here(uow: IdentityUnitOfWork, member: Membership) -> None:
        others = [
            m
            for m in await uow.memberships.list_for_user(member.user_id)
            if m.tenant_id != member.tenant_id
        ]
        if others:
            raise FailedPrecondition(
                f"{member.name} also belongs to other tenants, and their password opens those"
                " too: they can change it themselves (AuthService.ChangePassword), or a platform"
                " operator can issue a setup token on the server (linktor user password-setup)"
            )

    # ------------------------------------------------------------------ set (with a token)

    async def set_password(self, token: str, password: str, client_address: str = "") -> Membership:
        """Set the password of the token's person; their INVITED memberships become ACTIVE and
        every session of theirs ends. The membership the token was issued in."""
        if not token:
            raise InvalidArgument.for_field("token", "is required")
        validate_password(password, "password")
        if client_address:
            await self._limit(
                f"password_setup:address:{client_address}",
                self._policy.attempts_per_address_per_minute,
                "this address",
            )
        token_hash = self._credentials.hash(token)
        async with self._store.privileged() as uow:
            self._usable(await uow.password_setups.get_by_hash(token_hash))
        # Argon2 is slow on purpose: hash outside the transaction.
        password_hash = await self._passwords.hash(password)
        now = self._clock.now()
        async with self._store.privileged() as uow:
            setup = self._usable(await uow.password_setups.get_by_hash(token_hash))
            member = await uow.memberships.get(setup.tenant_id, setup.user_id)
            if member is None or member.state is UserState.DEACTIVATED:
                raise FailedPrecondition(
                    f"{setup.user_name} is deactivated or removed; ask an admin of your tenant"
                )
            tenant = await uow.tenants.get(setup.tenant_id)
            if tenant is not None and tenant.state is TenantState.SUSPENDED:
                raise suspended_error(tenant.id, tenant.suspend_reason)
            if setup.creator != OPERATOR:
                await self._only_here(uow, member)
            if not await uow.password_setups.mark_used(setup.id, now):
                raise Unauthenticated(TOKEN_USED)
            await uow.password_setups.revoke_unused(setup.user_id, now)
            await uow.users.set_password_hash(setup.user_id, password_hash, now)
            activated: list[Membership] = []
            for each in await uow.memberships.list_for_user(setup.user_id):
                if each.state is UserState.INVITED:
                    saved = await uow.memberships.update(
                        replace(each, state=UserState.ACTIVE, update_time=now),
                        expected_version=each.version,
                    )
                    activated.append(saved)
                    if saved.tenant_id == member.tenant_id:
                        member = saved
            await uow.refresh_tokens.revoke_for_person(setup.user_id, now)
            act = Act(member.name, client_address, now)
            for each in {member.tenant_id: member, **{m.tenant_id: m for m in activated}}.values():
                await act.record(
                    uow,
                    each.tenant_id,
                    AuditAction.PASSWORD_SET,
                    each.name,
                    details={"activated": each in activated, "issued_by": setup.creator},
                )
            await uow.commit()
        for each in activated:
            self._on_change(each.tenant_id, each.user_id)
        return member

    def _usable(self, setup: PasswordSetup | None) -> PasswordSetup:
        if setup is None:
            raise Unauthenticated(TOKEN_NOT_VALID)
        if setup.use_time is not None:
            raise Unauthenticated(TOKEN_USED)
        if setup.revoke_time is not None:
            raise Unauthenticated(TOKEN_REPLACED)
        if setup.expired(self._clock.now()):
            raise Unauthenticated(TOKEN_EXPIRED)
        return setup

    # ------------------------------------------------------------------ change (logged in)

    async def change(
        self,
        principal: Principal,
        current_password: str,
        new_password: str,
        client_address: str = "",
    ) -> None:
        """Change the calling user's password; the person's other sessions end."""
        if principal.user_id is None or principal.tenant_id is None:
            raise FailedPrecondition(
                "ChangePassword changes a user's own password: call it with the user's access"
                " token (API keys and operator keys have no password)"
            )
        if not current_password:
            raise InvalidArgument.for_field("current_password", "is required")
        validate_password(new_password, "new_password")
        user_id, tenant_id = principal.user_id, principal.tenant_id
        await self._limit(
            f"password_change:account:{user_id}",
            self._policy.attempts_per_account_per_minute,
            "this account",
        )
        async with self._store.privileged() as uow:
            user = await uow.users.get(user_id)
        ok = await self._passwords.verify(user.password_hash if user else None, current_password)
        now = self._clock.now()
        act = Act(principal.actor, client_address, now)
        if not ok or user is None:
            async with self._store.scoped(tenant_id) as uow:
                await act.record(
                    uow,
                    tenant_id,
                    AuditAction.PASSWORD_CHANGE_FAILED,
                    principal.actor,
                    success=False,
                )
                await uow.commit()
            raise InvalidArgument.for_field("current_password", "is incorrect; nothing changed")
        password_hash = await self._passwords.hash(new_password)
        async with self._store.privileged() as uow:
            await uow.users.set_password_hash(user_id, password_hash, now)
            await uow.password_setups.revoke_unused(user_id, now)
            revoked = await uow.refresh_tokens.revoke_for_person(
                user_id, now, keep_family=principal.session_id
            )
            await act.record(
                uow,
                tenant_id,
                AuditAction.PASSWORD_CHANGE,
                principal.actor,
                details={"refresh_tokens_revoked": revoked},
            )
            await uow.commit()
