"""People and their memberships: one User per email on the installation, a Membership (role,
state) per tenant they belong to."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from linktor.server.shared.principal import Role

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


class UserState(StrEnum):
    ACTIVE = "ACTIVE"
    INVITED = "INVITED"
    DEACTIVATED = "DEACTIVATED"


def normalize_email(email: str, field: str = "user.email") -> str:
    """The email as stored and compared: trimmed, lowercase; InvalidArgument when malformed."""
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise InvalidArgument.for_field(field, "must be an email address like ana@example.com")
    return value


def validate_password(password: str, field: str = "user.password") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgument.for_field(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidArgument.for_field(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    return password


def validate_display_name(display_name: str, field: str = "user.display_name") -> str:
    value = display_name.strip()
    if len(value) > 200:
        raise InvalidArgument.for_field(field, "must be at most 200 characters")
    return value


@dataclass(frozen=True)
class User:
    """A person, identified by email across every tenant they belong to."""

    id: str
    email: str
    password_hash: str | None
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class Membership:
    """A person's role and state in one tenant: the User resource of the API."""

    tenant_id: str
    user_id: str
    email: str
    display_name: str
    role: Role
    state: UserState
    create_time: datetime
    update_time: datetime
    last_login_time: datetime | None = None
    version: int = 1

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/users/{self.user_id}"

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @property
    def active(self) -> bool:
        return self.state is UserState.ACTIVE

    def change_role(self, role: Role, *, actor_role: Role | None, now: datetime) -> Membership:
        """The membership with ``role``; only owners grant or take away the owner role."""
        if role == self.role:
            return self
        if actor_role is not None and actor_role != Role.OWNER and Role.OWNER in (role, self.role):
            raise PermissionDenied("only an owner can make someone an owner or change an owner")
        return replace(self, role=role, update_time=now)

    def rename(self, display_name: str, now: datetime) -> Membership:
        return replace(self, display_name=validate_display_name(display_name), update_time=now)

    def deactivate(self, *, actor_role: Role | None, now: datetime) -> Membership:
        if self.state is UserState.DEACTIVATED:
            raise FailedPrecondition(f"{self.name} is already deactivated")
        if actor_role is not None and actor_role != Role.OWNER and self.role == Role.OWNER:
            raise PermissionDenied("only an owner can deactivate an owner")
        return replace(self, state=UserState.DEACTIVATED, update_time=now)

    def reactivate(self, *, has_password: bool, now: datetime) -> Membership:
        if self.state is not UserState.DEACTIVATED:
            raise FailedPrecondition(f"{self.name} is not deactivated")
        state = UserState.ACTIVE if has_password else UserState.INVITED
        return replace(self, state=state, update_time=now)
