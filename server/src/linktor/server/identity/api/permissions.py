"""THE permission table: who may call each RPC of linktor.v1. Enforced by the
Authenticator for every transport; docs/permissions.md is generated from it
(``python -m linktor.server.identity.api.permissions > docs/permissions.md``) and a test
keeps the two equal. An RPC missing here is refused (fail closed); a test checks that every
RPC of the public API has a rule."""

from __future__ import annotations

from linktor.server.identity.app.authorization import Rule
from linktor.server.shared.principal import Role

OWNER, ADMIN, AGENT, VIEWER = Role.OWNER, Role.ADMIN, Role.AGENT, Role.VIEWER

PUBLIC = Rule(public=True)
ANY_CALLER = Rule(authenticated=True)
OPERATOR_ONLY = Rule(operator_only=True)


def _rule(role: Role, scope: str | None, *, operators: bool = False) -> Rule:
    return Rule(role=role, scope=scope, operators=operators)


_TABLE: dict[str, dict[str, Rule]] = {
    "TenantService": {
        "CreateTenant": OPERATOR_ONLY,
        "GetTenant": _rule(VIEWER, "tenant:read", operators=True),
        "ListTenants": OPERATOR_ONLY,
        "UpdateTenant": _rule(OWNER, "tenant:write", operators=True),
        "SuspendTenant": OPERATOR_ONLY,
        "ReactivateTenant": OPERATOR_ONLY,
    },
    "UserService": {
        "CreateUser": _rule(ADMIN, "users:write"),
        "GetUser": _rule(VIEWER, "users:read"),
        "ListUsers": _rule(VIEWER, "users:read"),
        "UpdateUser": _rule(ADMIN, "users:write"),
        "DeactivateUser": _rule(ADMIN, "users:write"),
        "ReactivateUser": _rule(ADMIN, "users:write"),
        "IssuePasswordSetup": _rule(ADMIN, "users:write"),
    },
    "AuthService": {
        "Login": PUBLIC,
        "Refresh": PUBLIC,
        "Logout": PUBLIC,
        "GetPrincipal": ANY_CALLER,
        "SetPassword": PUBLIC,
        # The use case refuses API keys and operators: only users have passwords.
        "ChangePassword": ANY_CALLER,
    },
    "ApiKeyService": {
        "CreateApiKey": _rule(ADMIN, "api_keys:write"),
        "GetApiKey": _rule(ADMIN, "api_keys:read"),
        "ListApiKeys": _rule(ADMIN, "api_keys:read"),
        "RevokeApiKey": _rule(ADMIN, "api_keys:write"),
        "RotateApiKey": _rule(ADMIN, "api_keys:write"),
    },
    "AuditService": {
        "ListAuditEntries": _rule(ADMIN, "audit:read", operators=True),
    },
    "ChannelService": {
        "CreateChannel": _rule(ADMIN, "channels:write"),
        "GetChannel": _rule(VIEWER, "channels:read"),
        "ListChannels": _rule(VIEWER, "channels:read"),
        "UpdateChannel": _rule(ADMIN, "channels:write"),
        "DeleteChannel": _rule(ADMIN, "channels:write"),
        "EnableChannel": _rule(ADMIN, "channels:write"),
        "DisableChannel": _rule(ADMIN, "channels:write"),
        "TestChannel": _rule(ADMIN, "channels:write"),
        "ListMessageTemplates": _rule(VIEWER, "channels:read"),
        "SyncMessageTemplates": _rule(ADMIN, "channels:write"),
    },
    "ContactService": {
        "CreateContact": _rule(AGENT, "contacts:write"),
        "GetContact": _rule(VIEWER, "contacts:read"),
        "ListContacts": _rule(VIEWER, "contacts:read"),
        "UpdateContact": _rule(AGENT, "contacts:write"),
        "DeleteContact": _rule(ADMIN, "contacts:write"),
        "AddContactIdentity": _rule(AGENT, "contacts:write"),
        "RemoveContactIdentity": _rule(AGENT, "contacts:write"),
        "MergeContacts": _rule(AGENT, "contacts:write"),
    },
    "ConversationService": {
        "GetConversation": _rule(VIEWER, "conversations:read"),
        "ListConversations": _rule(VIEWER, "conversations:read"),
        "UpdateConversation": _rule(AGENT, "conversations:write"),
        "AssignConversation": _rule(AGENT, "conversations:write"),
        "ResolveConversation": _rule(AGENT, "conversations:write"),
        "ReopenConversation": _rule(AGENT, "conversations:write"),
        "SnoozeConversation": _rule(AGENT, "conversations:write"),
        "MarkConversationRead": _rule(AGENT, "conversations:write"),
        "SendTypingIndicator": _rule(AGENT, "conversations:write"),
    },
    "MessageService": {
        "SendMessage": _rule(AGENT, "messages:send"),
        "GetMessage": _rule(VIEWER, "messages:read"),
        "ListMessages": _rule(VIEWER, "messages:read"),
    },
    "AttachmentService": {
        "CreateAttachment": _rule(AGENT, "attachments:write"),
        "GetAttachment": _rule(VIEWER, "attachments:read"),
    },
    "EventService": {
        "StreamEvents": _rule(VIEWER, "events:read"),
        "ListEvents": _rule(VIEWER, "events:read"),
    },
    "WebhookService": {
        "CreateWebhookEndpoint": _rule(ADMIN, "webhooks:write"),
        "GetWebhookEndpoint": _rule(ADMIN, "webhooks:read"),
        "ListWebhookEndpoints": _rule(ADMIN, "webhooks:read"),
        "UpdateWebhookEndpoint": _rule(ADMIN, "webhooks:write"),
        "DeleteWebhookEndpoint": _rule(ADMIN, "webhooks:write"),
        "RotateWebhookSecret": _rule(ADMIN, "webhooks:write"),
        "TestWebhookEndpoint": _rule(ADMIN, "webhooks:write"),
        "ReplayWebhookEvents": _rule(ADMIN, "webhooks:write"),
        "ListWebhookDeliveries": _rule(ADMIN, "webhooks:read"),
        "GetWebhookDelivery": _rule(ADMIN, "webhooks:read"),
        "ReplayWebhookDelivery": _rule(ADMIN, "webhooks:write"),
    },
}

PACKAGE = "linktor.v1"

PERMISSIONS: dict[str, Rule] = {
    f"/{PACKAGE}.{service}/{method}": rule
    for service, methods in _TABLE.items()
    for method, rule in methods.items()
}


def render_markdown() -> str:
    """docs/permissions.md."""
    lines = [
        "# Permissions",
        "",
        "Who may call each RPC of `linktor.v1` (REST routes map to the same RPCs). Generated from",
        "`server/src/linktor/server/identity/api/permissions.py`, the table the server enforces;",
        "regenerate with `.venv/bin/python -m linktor.server.identity.api.permissions >"
        " docs/permissions.md`.",
        "",
        "- **Users**: the minimum role (`owner` > `admin` > `agent` > `viewer`; `admin+` means",
        "  admin or owner). Admins cannot create, change or deactivate owners.",
        "- **API keys**: the scope the key needs (`resource:write` includes `resource:read`,",
        "  `resource:*` and `*` include everything they name). A key acts for its tenant only",
        "  and cannot create keys with scopes it does not have.",
        "- **Operators**: platform operators (operator keys, `linktor operator create-key`).",
        "- `-`: not allowed. `public`: no credentials needed. `any`: any valid credentials.",
        "",
        "Every caller acts for one tenant; naming another tenant's resource answers NOT_FOUND.",
        "A suspended tenant's calls fail with PERMISSION_DENIED, reason TENANT_SUSPENDED.",
        "",
    ]
    for service, methods in _TABLE.items():
        lines += [
            f"## {service}",
            "",
            "| RPC | Users | API keys | Operators |",
            "| --- | --- | --- | --- |",
        ]
        for method, rule in methods.items():
            users, keys, operators = rule.describe()
            lines.append(f"| {method} | {users} | {keys} | {operators} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
