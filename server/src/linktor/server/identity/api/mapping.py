"""Proto <-> domain for the identity services, and request helpers (names, masks, peers)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, field_mask_pb2, struct_pb2, timestamp_pb2

from linktor.server.identity.domain.api_key import ApiKey, ApiKeyState
from linktor.server.identity.domain.audit import AuditEntry
from linktor.server.identity.domain.tenant import Tenant, TenantState
from linktor.server.identity.domain.user import Membership, UserState
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import api_key_pb2, audit_pb2, auth_pb2, tenant_pb2, user_pb2

_ROLES = {
    Role.OWNER: user_pb2.ROLE_OWNER,
    Role.ADMIN: user_pb2.ROLE_ADMIN,
    Role.AGENT: user_pb2.ROLE_AGENT,
    Role.VIEWER: user_pb2.ROLE_VIEWER,
}
_ROLES_BACK: dict[int, Role] = {int(v): k for k, v in _ROLES.items()}
_USER_STATES = {
    UserState.ACTIVE: user_pb2.USER_STATE_ACTIVE,
    UserState.INVITED: user_pb2.USER_STATE_INVITED,
    UserState.DEACTIVATED: user_pb2.USER_STATE_DEACTIVATED,
}
_TENANT_STATES = {
    TenantState.ACTIVE: tenant_pb2.TENANT_STATE_ACTIVE,
    TenantState.SUSPENDED: tenant_pb2.TENANT_STATE_SUSPENDED,
}
_TENANT_STATES_BACK: dict[int, TenantState] = {int(v): k for k, v in _TENANT_STATES.items()}
_KEY_STATES = {
    ApiKeyState.ACTIVE: api_key_pb2.API_KEY_STATE_ACTIVE,
    ApiKeyState.REVOKED: api_key_pb2.API_KEY_STATE_REVOKED,
    ApiKeyState.EXPIRED: api_key_pb2.API_KEY_STATE_EXPIRED,
}


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def from_timestamp(message: timestamp_pb2.Timestamp) -> datetime:
    return message.ToDatetime(tzinfo=UTC)


def from_duration(message: duration_pb2.Duration) -> timedelta:
    return message.ToTimedelta()


def role_from_proto(value: int, field: str = "user.role") -> Role | None:
    if value == user_pb2.ROLE_UNSPECIFIED:
        return None
    role = _ROLES_BACK.get(value)
    if role is None:
        raise InvalidArgument.for_field(field, f"unknown role {value}")
    return role


def tenant_state_from_proto(value: int) -> TenantState | None:
    if value == tenant_pb2.TENANT_STATE_UNSPECIFIED:
        return None
    state = _TENANT_STATES_BACK.get(value)
    if state is None:
        raise InvalidArgument.for_field("state", f"unknown tenant state {value}")
    return state


def mask_paths(mask: field_mask_pb2.FieldMask, allowed: Iterable[str], field: str) -> set[str]:
    """The paths of ``mask``; InvalidArgument naming one that cannot be updated."""
    allowed = set(allowed)
    paths = set(mask.paths)
    for path in sorted(paths):
        if path not in allowed:
            raise InvalidArgument.for_field(
                "update_mask", f"{field}.{path} cannot be updated; use {', '.join(sorted(allowed))}"
            )
    return paths


def client_address(peer: str | None) -> str:
    """``ipv4:1.2.3.4:5678`` -> ``1.2.3.4``; ``ipv6:[::1]:5678`` -> ``::1``."""
    if not peer:
        return ""
    kind, _, rest = peer.partition(":")
    if kind == "ipv6" and rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    return peer[:128]


def tenant_to_proto(tenant: Tenant) -> tenant_pb2.Tenant:
    return tenant_pb2.Tenant(
        name=tenant.name,
        display_name=tenant.display_name,
        state=_TENANT_STATES[tenant.state],
        suspend_reason=tenant.suspend_reason,
        plan=tenant.plan,
        create_time=timestamp(tenant.create_time),
        update_time=timestamp(tenant.update_time),
        etag=tenant.etag,
    )


def user_to_proto(member: Membership) -> user_pb2.User:
    return user_pb2.User(
        name=member.name,
        email=member.email,
        display_name=member.display_name,
        role=_ROLES[member.role],
        state=_USER_STATES[member.state],
        last_login_time=timestamp(member.last_login_time),
        create_time=timestamp(member.create_time),
        update_time=timestamp(member.update_time),
        etag=member.etag,
    )


def api_key_to_proto(key: ApiKey, now: datetime, secret: str = "") -> api_key_pb2.ApiKey:
    return api_key_pb2.ApiKey(
        name=key.name,
        display_name=key.display_name,
        prefix=key.prefix,
        secret=secret,
        scopes=sorted(key.scopes),
        state=_KEY_STATES[key.state_at(now)],
        expire_time=timestamp(key.expire_time),
        last_use_time=timestamp(key.last_use_time),
        create_time=timestamp(key.create_time),
        revoke_time=timestamp(key.revoke_time),
        creator=key.creator,
    )


def audit_entry_to_proto(entry: AuditEntry) -> audit_pb2.AuditEntry:
    details = struct_pb2.Struct()
    details.update(entry.details)
    return audit_pb2.AuditEntry(
        name=entry.name,
        create_time=timestamp(entry.create_time),
        action=entry.action,
        actor=entry.actor,
        resource=entry.resource,
        success=entry.success,
        client_address=entry.client_address,
        details=details,
    )


def principal_to_proto(principal: Principal) -> auth_pb2.Principal:
    tenant = f"tenants/{principal.tenant_id}" if principal.tenant_id else ""
    user = f"{tenant}/users/{principal.user_id}" if principal.user_id and tenant else ""
    key = f"{tenant}/apiKeys/{principal.api_key_id}" if principal.api_key_id and tenant else ""
    return auth_pb2.Principal(
        tenant=tenant,
        user=user,
        api_key=key,
        role=_ROLES[principal.role] if principal.role else user_pb2.ROLE_UNSPECIFIED,
        scopes=sorted(principal.scopes),
        platform_operator=principal.platform_operator,
        email=principal.email if principal.user_id else "",
    )
