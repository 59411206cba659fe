"""The Tenant entity: a business using Linktor."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from linktor.server.shared.errors import FailedPrecondition, InvalidArgument

_TENANT_ID = re.compile(r"^[a-z][a-z0-9-]{2,39}$")


class TenantState(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


def validate_tenant_id(tenant_id: str, field: str = "tenant_id") -> str:
    if not _TENANT_ID.match(tenant_id) or tenant_id.endswith("-"):
        raise InvalidArgument.for_field(
            field, "must be 3 to 40 of a-z, 0-9 and '-', start with a letter, not end with '-'"
        )
    return tenant_id


@dataclass(frozen=True)
class Tenant:
    id: str
    display_name: str
    state: TenantState
    plan: str
    create_time: datetime
    update_time: datetime
    suspend_reason: str = ""
    version: int = 1

    @property
    def name(self) -> str:
        return f"tenants/{self.id}"

    @classmethod
    def create(cls, tenant_id: str, display_name: str, plan: str, now: datetime) -> Tenant:
        validate_tenant_id(tenant_id)
        display_name = display_name.strip()
        if not display_name or len(display_name) > 200:
            raise InvalidArgument.for_field("tenant.display_name", "must be 1 to 200 characters")
        return cls(tenant_id, display_name, TenantState.ACTIVE, plan, now, now)

    def suspend(self, reason: str, now: datetime) -> Tenant:
        if not reason.strip():
            raise InvalidArgument.for_field("reason", "must say why the tenant is suspended")
        if self.state is TenantState.SUSPENDED:
            raise FailedPrecondition(f"{self.name} is already suspended")
        return replace(
            self, state=TenantState.SUSPENDED, suspend_reason=reason.strip(), update_time=now
        )

    def reactivate(self, now: datetime) -> Tenant:
        if self.state is TenantState.ACTIVE:
            raise FailedPrecondition(f"{self.name} is not suspended")
        return replace(self, state=TenantState.ACTIVE, suspend_reason="", update_time=now)

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'
