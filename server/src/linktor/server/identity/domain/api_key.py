"""API keys: scoped, hashed credentials acting for one tenant."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from linktor.server.shared.errors import FailedPrecondition, InvalidArgument

# resource -> the actions a scope may name. "write" includes "read" (see has_scope).
SCOPE_ACTIONS: dict[str, tuple[str, ...]] = {
    "messages": ("read", "send"),
    "conversations": ("read", "write"),
    "contacts": ("read", "write"),
    "channels": ("read", "write"),
    "attachments": ("read", "write"),
    "events": ("read",),
    "webhooks": ("read", "write"),
    "users": ("read", "write"),
    "api_keys": ("read", "write"),
    "audit": ("read",),
    "tenant": ("read", "write"),
}
ALL_SCOPES = "*"
MAX_GRACE_PERIOD = timedelta(days=7)


def known_scopes() -> list[str]:
    return [f"{r}:{a}" for r, actions in SCOPE_ACTIONS.items() for a in actions]


def validate_scopes(scopes: list[str], field: str = "api_key.scopes") -> frozenset[str]:
    """The scopes as a set; InvalidArgument naming the first unknown one."""
    if not scopes:
        raise InvalidArgument.for_field(field, "name at least one scope, e.g. messages:send")
    for scope in scopes:
        if scope == ALL_SCOPES:
            continue
        resource, _, action = scope.partition(":")
        actions = SCOPE_ACTIONS.get(resource)
        if actions is None or (action != "*" and action not in actions):
            raise InvalidArgument.for_field(
                field,
                f"unknown scope {scope!r}; use resource:action with resource one of "
                f"{', '.join(SCOPE_ACTIONS)} (e.g. messages:send, channels:write), or '*'",
            )
    return frozenset(scopes)


def has_scope(granted: frozenset[str], needed: str) -> bool:
    """Whether ``granted`` covers ``needed``: exact, ``resource:*``, ``*``, write => read."""
    if needed in granted or ALL_SCOPES in granted:
        return True
    resource, _, action = needed.partition(":")
    if f"{resource}:*" in granted:
        return True
    return action == "read" and f"{resource}:write" in granted


def covers(granted: frozenset[str], wanted: frozenset[str]) -> bool:
    """Whether a key with ``granted`` may hand out every scope of ``wanted``."""
    for scope in wanted:
        if scope == ALL_SCOPES:
            if ALL_SCOPES not in granted:
                return False
        elif scope.endswith(":*"):
            resource = scope[:-2]
            if not all(has_scope(granted, f"{resource}:{a}") for a in SCOPE_ACTIONS[resource]):
                return False
        elif not has_scope(granted, scope):
            return False
    return True


class ApiKeyState(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant_id: str
    display_name: str
    prefix: str
    secret_hash: str
    scopes: frozenset[str]
    state: ApiKeyState
    create_time: datetime
    creator: str = ""
    expire_time: datetime | None = None
    last_use_time: datetime | None = None
    revoke_time: datetime | None = None
    previous_secret_hash: str | None = None
    previous_secret_expire_time: datetime | None = None

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/apiKeys/{self.id}"

    def state_at(self, now: datetime) -> ApiKeyState:
        if self.state is ApiKeyState.ACTIVE and self.expire_time and self.expire_time <= now:
            return ApiKeyState.EXPIRED
        return self.state

    def usable(self, now: datetime) -> bool:
        return self.state_at(now) is ApiKeyState.ACTIVE

    def secret_matches(self, candidate_hash: str, now: datetime) -> bool:
        """Constant-time check of a presented secret's hash (current, or previous in grace)."""
        current = hmac.compare_digest(self.secret_hash, candidate_hash)
        previous = False
        if self.previous_secret_hash and self.previous_secret_expire_time:
            previous = hmac.compare_digest(self.previous_secret_hash, candidate_hash)
            previous = previous and now < self.previous_secret_expire_time
        return current or previous

    def revoke(self, now: datetime) -> ApiKey:
        if self.state is ApiKeyState.REVOKED:
            return self
        return replace(
            self,
            state=ApiKeyState.REVOKED,
            revoke_time=now,
            previous_secret_hash=None,
            previous_secret_expire_time=None,
        )

    def rotate(self, new_secret_hash: str, grace: timedelta, now: datetime) -> ApiKey:
        if not self.usable(now):
            raise FailedPrecondition(
                f"{self.name} is {self.state_at(now).value.lower()}; create a new key instead"
            )
        if grace < timedelta(0) or grace > MAX_GRACE_PERIOD:
            raise InvalidArgument.for_field("grace_period", "must be between 0 and 7 days")
        keep_old = grace > timedelta(0)
        return replace(
            self,
            secret_hash=new_secret_hash,
            previous_secret_hash=self.secret_hash if keep_old else None,
            previous_secret_expire_time=now + grace if keep_old else None,
        )
