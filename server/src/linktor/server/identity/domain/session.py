"""Refresh tokens: single-use, rotated on every refresh, grouped in families (one per login).

Presenting a token that was already rotated means it was copied: the whole family is revoked,
so both the thief and the victim must log in again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RefreshTokenState(StrEnum):
    ACTIVE = "ACTIVE"
    ROTATED = "ROTATED"
    REVOKED = "REVOKED"


@dataclass(frozen=True)
class RefreshToken:
    id: str
    family_id: str
    tenant_id: str
    user_id: str
    token_hash: str
    state: RefreshTokenState
    create_time: datetime
    expire_time: datetime
    use_time: datetime | None = None
    revoke_time: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expire_time


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says about its bearer."""

    user_id: str
    tenant_id: str
    session_id: str
    issue_time: datetime
    expire_time: datetime
