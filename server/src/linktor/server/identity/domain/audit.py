"""Audit entries: who did what security-relevant thing to which resource, and whether it
worked. Details never hold secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DetailValue = str | int | bool


@dataclass(frozen=True)
class AuditEntry:
    id: str
    tenant_id: str
    create_time: datetime
    action: str
    actor: str
    resource: str
    success: bool
    client_address: str = ""
    details: dict[str, DetailValue] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/auditEntries/{self.id}"


class AuditAction:
    """The actions recorded (AuditEntry.action)."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    REFRESH_TOKEN_REUSED = "auth.refresh_token_reused"  # noqa: S105 - an action name
    PASSWORD_SET = "auth.password_set"  # noqa: S105 - an action name
    PASSWORD_CHANGE = "auth.password_change"  # noqa: S105 - an action name
    PASSWORD_CHANGE_FAILED = "auth.password_change_failed"  # noqa: S105 - an action name
    USER_CREATE = "user.create"
    USER_ROLE_CHANGE = "user.role_change"
    USER_DEACTIVATE = "user.deactivate"
    USER_REACTIVATE = "user.reactivate"
    USER_PASSWORD_SETUP_ISSUE = "user.password_setup_issue"  # noqa: S105 - an action name
    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"
    API_KEY_ROTATE = "api_key.rotate"
    TENANT_CREATE = "tenant.create"
    TENANT_UPDATE = "tenant.update"
    TENANT_SUSPEND = "tenant.suspend"
    TENANT_REACTIVATE = "tenant.reactivate"
