"""Login, refresh and logout: access JWTs and rotating refresh tokens with reuse detection.

Login attempts are limited per account and per client address (token buckets). A wrong
password and an unknown email get the same answer in the same time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from linktor.server.identity.app.audit_log import Act, record
from linktor.server.identity.app.ports import (
    AccessTokens,
    Credentials,
    IdentityStore,
    IdentityUnitOfWork,
    PasswordHasher,
)
from linktor.server.identity.domain.audit import AuditAction
from linktor.server.identity.domain.session import (
    AccessClaims,
    RefreshToken,
    RefreshTokenState,
)
from linktor.server.identity.domain.tenant import TenantState
from linktor.server.identity.domain.user import Membership, UserState, normalize_email
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import (
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from linktor.server.shared.ids import new_id

WRONG_CREDENTIALS = "the email or password is incorrect"
USER_DEACTIVATED = "USER_DEACTIVATED"
TENANT_SUSPENDED = "TENANT_SUSPENDED"
REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # noqa: S105 - an error reason


@dataclass(frozen=True)
class SessionPolicy:
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    attempts_per_account_per_minute: int = 10
    attempts_per_address_per_minute: int = 30


@dataclass(frozen=True)
class Session:
    access_token: str
    access_expire_time: datetime
    refresh_token: str
    refresh_expire_time: datetime
    member: Membership
    tenants: list[str]


def suspended_error(tenant_id: str, reason: str) -> PermissionDenied:
    return PermissionDenied(
        f"tenants/{tenant_id} is suspended: {reason or 'no reason given'}",
        reason=TENANT_SUSPENDED,
        metadata={"reason": reason},
    )


class Sessions:
    def __init__(
        self,
        store: IdentityStore,
        passwords: PasswordHasher,
        credentials: Credentials,
        tokens: AccessTokens,
        rate_limiter: RateLimiter,
        clock: Clock,
        policy: SessionPolicy | None = None,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._credentials = credentials
        self._tokens = tokens
        self._limiter = rate_limiter
        self._clock = clock
        self._policy = policy or SessionPolicy()

    async def _limit_attempts(self, email: str, client_address: str) -> None:
        account = hashlib.sha256(email.encode()).hexdigest()[:32]
        buckets = [(f"login:account:{account}", self._policy.attempts_per_account_per_minute)]
        if client_address:
            per_minute = self._policy.attempts_per_address_per_minute
            buckets.append((f"login:address:{client_address}", per_minute))
        for key, per_minute in buckets:
            decision = await self._limiter.acquire(key, rate=per_minute / 60.0, burst=per_minute)
            if not decision.allowed:
                what = "this account" if key.startswith("login:account") else "this address"
                raise ResourceExhausted(
                    f"too many login attempts for {what}; retry in {decision.retry_after:.0f} s",
                    retry_after=decision.retry_after,
                    metadata={"limit": "login", "remaining": "0"},
                )

    async def login(
        self, email: str, password: str, tenant_id: str = "", client_address: str = ""
    ) -> Session:
        email = normalize_email(email, "email")
        if not password:
            raise InvalidArgument.for_field("password", "is required")
        await self._limit_attempts(email, client_address)
        now = self._clock.now()
        async with self._store.privileged() as uow:
            user = await uow.users.get_by_email(email)
            ok = await self._passwords.verify(user.password_hash if user else None, password)
            members = await uow.memberships.list_for_user(user.id) if user else []
            if not ok or user is None:
                for member in members:
                    if not tenant_id or member.tenant_id == tenant_id:
                        await self._audit_login(uow, member, False, client_address, now)
                await uow.commit()
                raise Unauthenticated(WRONG_CREDENTIALS)
            member = self._choose(members, tenant_id)
            tenant = await uow.tenants.get(member.tenant_id)
            if tenant is not None and tenant.state is TenantState.SUSPENDED:
                raise suspended_error(tenant.id, tenant.suspend_reason)
            member = await uow.memberships.update(
                replace(member, last_login_time=now), expected_version=member.version
            )
            session = await self._open(uow, member, new_id(), now)
            await self._audit_login(uow, member, True, client_address, now)
            await uow.commit()
        tenants = [
            f"tenants/{m.tenant_id}" for m in members if m.state is not UserState.DEACTIVATED
        ]
        return replace(session, tenants=tenants)

    def _choose(self, members: list[Membership], tenant_id: str) -> Membership:
        if tenant_id:
            for member in members:
                if member.tenant_id == tenant_id:
                    return self._usable(member)
            raise PermissionDenied(f"you are not a user of tenants/{tenant_id}")
        live = [m for m in members if m.state is not UserState.DEACTIVATED]
        if not live:
            if members:
                return self._usable(members[0])
            raise PermissionDenied("you are not a user of any tenant")
        if len(live) > 1:
            names = ", ".join(f"tenants/{m.tenant_id}" for m in live)
            raise InvalidArgument.for_field(
                "tenant", f"you belong to several tenants; name one of: {names}"
            )
        return self._usable(live[0])

    @staticmethod
    def _usable(member: Membership) -> Membership:
        if member.state is UserState.DEACTIVATED:
            raise PermissionDenied(
                f"your user is deactivated in tenants/{member.tenant_id}", reason=USER_DEACTIVATED
            )
        return member

    async def _open(
        self, uow: IdentityUnitOfWork, member: Membership, family_id: str, now: datetime
    ) -> Session:
        refresh = self._credentials.new_refresh_token()
        refresh_expire = now + self._policy.refresh_ttl
        await uow.refresh_tokens.add(
            RefreshToken(
                id=new_id(),
                family_id=family_id,
                tenant_id=member.tenant_id,
                user_id=member.user_id,
                token_hash=self._credentials.hash(refresh),
                state=RefreshTokenState.ACTIVE,
                create_time=now,
                expire_time=refresh_expire,
            )
        )
        access_expire = now + self._policy.access_ttl
        access = self._tokens.issue(
            AccessClaims(member.user_id, member.tenant_id, family_id, now, access_expire)
        )
        return Session(access, access_expire, refresh, refresh_expire, member, [])

    async def _audit_login(
        self,
        uow: IdentityUnitOfWork,
        member: Membership,
        success: bool,
        client_address: str,
        now: datetime,
    ) -> None:
        await record(
            uow,
            tenant_id=member.tenant_id,
            action=AuditAction.LOGIN if success else AuditAction.LOGIN_FAILED,
            actor=member.name,
            resource=member.name,
            now=now,
            success=success,
            client_address=client_address,
        )

    async def _find(self, uow: IdentityUnitOfWork, refresh_token: str) -> RefreshToken:
        if not refresh_token:
            raise InvalidArgument.for_field("refresh_token", "is required")
        token = await uow.refresh_tokens.get_by_hash(self._credentials.hash(refresh_token))
        if token is None:
            raise Unauthenticated("the refresh token is not valid; log in again")
        return token

    async def refresh(self, refresh_token: str, client_address: str = "") -> Session:
        now = self._clock.now()
        async with self._store.privileged() as uow:
            token = await self._find(uow, refresh_token)
            if token.state is RefreshTokenState.REVOKED:
                raise Unauthenticated("the refresh token was revoked; log in again")
            if (
                token.state is RefreshTokenState.ROTATED
                or not await uow.refresh_tokens.mark_rotated(token.id, now)
            ):
                await self._reused(uow, token, client_address, now)
            if token.expired(now):
                raise Unauthenticated("the refresh token has expired; log in again")
            member = await uow.memberships.get(token.tenant_id, token.user_id)
            if member is None:
                raise Unauthenticated("the refresh token is not valid; log in again")
            self._usable(member)
            tenant = await uow.tenants.get(token.tenant_id)
            if tenant is not None and tenant.state is TenantState.SUSPENDED:
                raise suspended_error(tenant.id, tenant.suspend_reason)
            session = await self._open(uow, member, token.family_id, now)
            await uow.commit()
        return session

    async def _reused(
        self, uow: IdentityUnitOfWork, token: RefreshToken, client_address: str, now: datetime
    ) -> None:
        await uow.refresh_tokens.revoke_family(token.family_id, now)
        await self._audit_session(
            uow, token, AuditAction.REFRESH_TOKEN_REUSED, client_address, now, success=False
        )
        await uow.commit()
        raise Unauthenticated(
            "this refresh token was already used, so it may have been stolen: every token of"
            " the session is revoked; log in again",
            reason=REFRESH_TOKEN_REUSED,
        )

    @staticmethod
    async def _audit_session(
        uow: IdentityUnitOfWork,
        token: RefreshToken,
        action: str,
        client_address: str,
        now: datetime,
        *,
        success: bool = True,
    ) -> None:
        name = f"tenants/{token.tenant_id}/users/{token.user_id}"
        await Act(name, client_address, now).record(
            uow, token.tenant_id, action, name, success=success
        )

    async def logout(self, refresh_token: str, client_address: str = "") -> None:
        now = self._clock.now()
        async with self._store.privileged() as uow:
            token = await self._find(uow, refresh_token)
            if token.state is RefreshTokenState.REVOKED:
                return
            await uow.refresh_tokens.revoke_family(token.family_id, now)
            await self._audit_session(uow, token, AuditAction.LOGOUT, client_address, now)
            await uow.commit()
