"""The permission table covers every RPC, agrees with docs/permissions.md, and is applied
the same way to users, API keys and operators."""

from __future__ import annotations

from pathlib import Path

import pytest

from linktor.server.api.services import public_services
from linktor.server.identity.api.permissions import PERMISSIONS, render_markdown
from linktor.server.identity.app.authorization import authorize
from linktor.server.shared.errors import PermissionDenied
from linktor.server.shared.principal import Principal, Role

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[4] / "docs" / "permissions.md"


def test_every_public_rpc_has_a_rule_and_no_rule_is_stale() -> None:
    rpcs = {f"/{s.full_name}/{m.name}" for s in public_services() for m in s.methods}
    assert rpcs - PERMISSIONS.keys() == set()
    assert PERMISSIONS.keys() - rpcs == set()


def test_docs_permissions_md_is_generated_from_the_table() -> None:
    assert DOC.read_text() == render_markdown(), (
        "regenerate: .venv/bin/python -m linktor.server.identity.api.permissions > docs/permissions.md"
    )


def user(role: Role) -> Principal:
    return Principal(tenant_id="acme", user_id="u1", role=role)


def key(*scopes: str) -> Principal:
    return Principal(tenant_id="acme", api_key_id="k1", scopes=frozenset(scopes))


OPERATOR = Principal(tenant_id=None, platform_operator=True)


@pytest.mark.parametrize(
    ("method", "principal", "allowed"),
    [
        ("/linktor.v1.MessageService/SendMessage", user(Role.AGENT), True),
        ("/linktor.v1.MessageService/SendMessage", user(Role.VIEWER), False),
        ("/linktor.v1.MessageService/SendMessage", key("messages:send"), True),
        ("/linktor.v1.MessageService/SendMessage", key("messages:read"), False),
        ("/linktor.v1.MessageService/SendMessage", key("messages:*"), True),
        ("/linktor.v1.MessageService/SendMessage", key("*"), True),
        ("/linktor.v1.MessageService/SendMessage", OPERATOR, False),
        ("/linktor.v1.ChannelService/GetChannel", key("channels:write"), True),  # write => read
        ("/linktor.v1.ChannelService/CreateChannel", user(Role.ADMIN), True),
        ("/linktor.v1.ChannelService/CreateChannel", user(Role.AGENT), False),
        ("/linktor.v1.TenantService/CreateTenant", user(Role.OWNER), False),
        ("/linktor.v1.TenantService/CreateTenant", key("*"), False),
        ("/linktor.v1.TenantService/CreateTenant", OPERATOR, True),
        ("/linktor.v1.TenantService/UpdateTenant", user(Role.ADMIN), False),
        ("/linktor.v1.TenantService/UpdateTenant", user(Role.OWNER), True),
        ("/linktor.v1.AuthService/GetPrincipal", key("users:read"), True),
        ("/linktor.v1.AuthService/GetPrincipal", OPERATOR, True),
        ("/linktor.v1.AuditService/ListAuditEntries", user(Role.AGENT), False),
        ("/linktor.v1.AuditService/ListAuditEntries", user(Role.ADMIN), True),
    ],
)
def test_rules_apply_to_users_keys_and_operators(
    method: str, principal: Principal, allowed: bool
) -> None:
    if allowed:
        authorize(PERMISSIONS[method], principal, method)
    else:
        with pytest.raises(PermissionDenied) as info:
            authorize(PERMISSIONS[method], principal, method)
        assert info.value.message  # always says what is missing
