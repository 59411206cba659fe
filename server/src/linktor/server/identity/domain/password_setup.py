"""Password setup tokens: one-time secrets with which a person sets their password (an
invited user's first one, or a reset). Issued by a tenant's owners or admins, keyed by the
person, stored only as SHA-256 hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PasswordSetup:
    id: str
    user_id: str
    # The tenant whose owner or admin issued it.
    tenant_id: str
    token_hash: str
    creator: str
    create_time: datetime
    expire_time: datetime
    use_time: datetime | None = None
    # Set when a newer token, a password change or a used token made it moot.
    revoke_time: datetime | None = None

    @property
    def user_name(self) -> str:
        return f"tenants/{self.tenant_id}/users/{self.user_id}"

    def expired(self, now: datetime) -> bool:
        return now >= self.expire_time
