"""Ports of the identity context: what its use cases need from the outside world."""

from __future__ import annotations

import builtins
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from linktor.server.identity.domain.api_key import ApiKey
from linktor.server.identity.domain.audit import AuditEntry
from linktor.server.identity.domain.operator import OperatorKey
from linktor.server.identity.domain.password_setup import PasswordSetup
from linktor.server.identity.domain.session import AccessClaims, RefreshToken
from linktor.server.identity.domain.tenant import Tenant, TenantState
from linktor.server.identity.domain.user import Membership, User
from linktor.server.shared.idempotency import IdempotencyRecord


class TenantRepository(Protocol):
    async def add(self, tenant: Tenant) -> None:
        """Store a new tenant; AlreadyExists when the id is taken."""
        ...

    async def get(self, tenant_id: str) -> Tenant | None: ...

    async def update(self, tenant: Tenant, *, expected_version: int) -> Tenant:
        """Store changes; Aborted when the stored version is not ``expected_version``.
        Returns the tenant with its new version."""
        ...

    async def list(
        self, *, limit: int, after_id: str | None = None, state: TenantState | None = None
    ) -> list[Tenant]:
        """Tenants ordered by id, after ``after_id``."""
        ...

    async def lock(self, tenant_id: str) -> None:
        """Serialize writers of one tenant until commit (plan limits under concurrency)."""
        ...


class UserRepository(Protocol):
    """People, installation-wide (no tenant)."""

    async def add(self, user: User) -> None:
        """AlreadyExists when the email is taken."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None: ...


class MembershipRepository(Protocol):
    """Memberships of one tenant (each call names it) joined with the person's email."""

    async def add(self, membership: Membership) -> None:
        """AlreadyExists when the person is already a member."""
        ...

    async def get(self, tenant_id: str, user_id: str) -> Membership | None: ...

    async def list(
        self, tenant_id: str, *, limit: int, after_email: str | None, include_deactivated: bool
    ) -> list[Membership]:
        """Ordered by email."""
        ...

    async def list_for_user(self, user_id: str) -> builtins.list[Membership]:
        """Every tenant the person belongs to (needs a privileged unit of work)."""
        ...

    async def update(self, membership: Membership, *, expected_version: int) -> Membership: ...

    async def count(self, tenant_id: str, *, role: str | None = None) -> int:
        """Members that are not deactivated (with ``role`` when given)."""
        ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...

    async def get(self, tenant_id: str, key_id: str) -> ApiKey | None: ...

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        """The key with that prefix in any tenant (needs a privileged unit of work)."""
        ...

    async def list(
        self, tenant_id: str, *, limit: int, before_id: str | None, active_at: datetime | None
    ) -> list[ApiKey]:
        """Newest first; only keys usable at ``active_at`` when given."""
        ...

    async def update(self, key: ApiKey) -> None: ...

    async def count_active(self, tenant_id: str, now: datetime) -> int: ...

    async def touch(self, tenant_id: str, key_id: str, now: datetime) -> None:
        """Record a use (last_use_time)."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        """Any tenant's token (needs a privileged unit of work)."""
        ...

    async def mark_rotated(self, token_id: str, now: datetime) -> bool:
        """ACTIVE -> ROTATED atomically; False when it was not ACTIVE any more (a race)."""
        ...

    async def revoke_family(self, family_id: str, now: datetime) -> int: ...

    async def revoke_for_user(self, tenant_id: str, user_id: str, now: datetime) -> int: ...

    async def revoke_for_person(
        self, user_id: str, now: datetime, *, keep_family: str | None = None
    ) -> int:
        """Revoke the person's tokens in every tenant (needs a privileged unit of work), but
        those of ``keep_family``."""
        ...


class PasswordSetupRepository(Protocol):
    """One-time password setup tokens, keyed by person (lookups need a privileged unit of
    work)."""

    async def add(self, setup: PasswordSetup) -> None: ...

    async def get_by_hash(self, token_hash: str) -> PasswordSetup | None: ...

    async def mark_used(self, setup_id: str, now: datetime) -> bool:
        """Unused and unrevoked -> used, atomically; False when it was not (a race)."""
        ...

    async def revoke_unused(self, user_id: str, now: datetime) -> int:
        """Revoke the person's tokens that are neither used nor revoked."""
        ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...

    async def list(
        self,
        tenant_id: str,
        *,
        limit: int,
        before: tuple[datetime, str] | None,
        action_prefix: str,
        start_time: datetime | None,
    ) -> list[AuditEntry]:
        """Newest first (create_time, id), strictly before ``before``."""
        ...


class OperatorKeyRepository(Protocol):
    async def add(self, key: OperatorKey) -> None: ...

    async def get_by_prefix(self, prefix: str) -> OperatorKey | None: ...

    async def list(self) -> builtins.list[OperatorKey]:
        """Every operator key, revoked ones included, oldest first."""
        ...

    async def revoke(self, prefix: str, now: datetime) -> OperatorKey | None:
        """Revoke the key (idempotent: a revoked key keeps its first revoke time); the key,
        or None when no key has that prefix."""
        ...


class UsageRepository(Protocol):
    async def consume(
        self,
        tenant_id: str,
        metric: str,
        period: str,
        amount: int,
        maximum: int | None,
        now: datetime,
    ) -> int | None:
        """Add ``amount`` unless the total would pass ``maximum``; the new total, or None
        when refused (nothing added)."""
        ...


class IdempotencyStore(Protocol):
    """request_id keys (AIP-155), stored in the transaction of the work they guard."""

    async def get(
        self, tenant_id: str, scope: str, key: str, now: datetime
    ) -> IdempotencyRecord | None: ...

    async def put(
        self, tenant_id: str, scope: str, key: str, record: IdempotencyRecord, now: datetime
    ) -> None:
        """ConcurrentRequest when another call stored the same key first."""
        ...


class IdentityUnitOfWork(Protocol):
    """One transaction over the identity context's repositories."""

    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def memberships(self) -> MembershipRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def password_setups(self) -> PasswordSetupRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def operator_keys(self) -> OperatorKeyRepository: ...
    @property
    def usage(self) -> UsageRepository: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class IdentityStore(Protocol):
    """Makes units of work: scoped to one tenant, or privileged (every tenant)."""

    def scoped(self, tenant_id: str) -> IdentityUnitOfWork: ...

    def privileged(self) -> IdentityUnitOfWork: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no hash, spends the same time and says no."""
        ...


class Credentials(Protocol):
    """High-entropy secrets (API keys, operator keys, refresh tokens): making them, finding
    their lookup prefix, and hashing them (fast: they need no slow hash)."""

    def hash(self, secret: str) -> str: ...

    def new_api_key(self) -> tuple[str, str]:
        """(prefix, secret) of a new API key."""
        ...

    def new_operator_key(self) -> tuple[str, str]: ...

    def new_secret_for(self, prefix: str) -> str:
        """A new secret keeping ``prefix`` (rotation)."""
        ...

    def new_refresh_token(self) -> str: ...

    def new_password_setup_token(self) -> str: ...

    def api_key_prefix(self, secret: str) -> str | None:
        """The lookup prefix of an API key secret; None when it is not shaped like one."""
        ...

    def operator_key_prefix(self, secret: str) -> str | None: ...


class AccessTokens(Protocol):
    def issue(self, claims: AccessClaims) -> str: ...

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; Unauthenticated saying what is wrong otherwise."""
        ...
