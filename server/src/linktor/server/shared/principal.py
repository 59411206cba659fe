"""Who is calling: the principal every use case acts for.

The authentication layer (identity context) resolves credentials into a Principal and makes
it current for the duration of a call (gRPC, REST and WebSocket alike); use cases receive it
explicitly. A principal always acts for at most one tenant: resources of any other tenant
are reported as NOT_FOUND, never as forbidden, so existence does not leak.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from enum import StrEnum

from linktor.server.shared.errors import NotFound, PermissionDenied, Unauthenticated


class Role(StrEnum):
    """A user's role in a tenant; each includes the permissions of the ones after it."""

    OWNER = "OWNER"
    ADMIN = "ADMIN"
    AGENT = "AGENT"
    VIEWER = "VIEWER"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANKS = {Role.VIEWER: 1, Role.AGENT: 2, Role.ADMIN: 3, Role.OWNER: 4}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    tenant_id: str | None
    user_id: str | None = None
    api_key_id: str | None = None
    role: Role | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    platform_operator: bool = False
    email: str = ""
    # The session (refresh token family) of a user's access token.
    session_id: str | None = None

    @property
    def actor(self) -> str:
        """The caller as a resource name, for audit logs and message senders."""
        if self.api_key_id and self.tenant_id:
            return f"tenants/{self.tenant_id}/apiKeys/{self.api_key_id}"
        if self.user_id and self.tenant_id:
            return f"tenants/{self.tenant_id}/users/{self.user_id}"
        return "operator" if self.platform_operator else "anonymous"

    def tenant(self) -> str:
        """The caller's tenant id; Unauthenticated when the credentials carry none."""
        if self.tenant_id is None:
            raise Unauthenticated("these credentials do not act for a tenant")
        return self.tenant_id

    def own_tenant(self, tenant_id: str, resource: str) -> str:
        """``tenant_id`` when it is the caller's; NotFound naming ``resource`` otherwise."""
        if self.platform_operator and self.tenant_id is None:
            return tenant_id
        if tenant_id != self.tenant_id:
            raise NotFound(f"{resource} not found")
        return tenant_id

    def require_role(self, minimum: Role) -> None:
        if self.platform_operator:
            return
        if self.api_key_id is None and (self.role is None or not self.role.at_least(minimum)):
            raise PermissionDenied(f"this requires the {minimum.value.lower()} role or higher")


ANONYMOUS = Principal(tenant_id=None)

_current: contextvars.ContextVar[Principal] = contextvars.ContextVar(
    "linktor_principal", default=ANONYMOUS
)


def current_principal() -> Principal:
    """The principal of the call being handled (ANONYMOUS outside authenticated calls)."""
    return _current.get()


def set_current_principal(principal: Principal) -> contextvars.Token[Principal]:
    return _current.set(principal)


def reset_current_principal(token: contextvars.Token[Principal]) -> None:
    _current.reset(token)
