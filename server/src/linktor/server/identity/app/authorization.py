"""Per-RPC permission rules and the one function that applies them to a principal."""

from __future__ import annotations

from dataclasses import dataclass

from linktor.server.identity.domain.api_key import has_scope
from linktor.server.shared.errors import PermissionDenied
from linktor.server.shared.principal import Principal, Role


@dataclass(frozen=True)
class Rule:
    """Who may call one RPC.

    ``public``: anyone, no credentials (Login, Refresh, Logout). Otherwise users need at
    least ``role``; API keys need ``scope`` (None: API keys may not call it); platform
    operators may call it only when ``operators`` is set, and nobody else may when
    ``operator_only`` is.
    """

    public: bool = False
    # Any authenticated principal (user, API key or operator), e.g. GetPrincipal.
    authenticated: bool = False
    role: Role | None = None
    scope: str | None = None
    operators: bool = False
    operator_only: bool = False

    def describe(self) -> tuple[str, str, str]:
        """(users, API keys, operators) columns of docs/permissions.md."""
        if self.public:
            return "public", "public", "public"
        if self.authenticated:
            return "any", "any", "yes"
        users = "-"
        if not self.operator_only and self.role is not None:
            users = self.role.value.lower() + ("" if self.role is Role.OWNER else "+")
        keys = "-" if self.operator_only or self.scope is None else f"`{self.scope}`"
        operators = "yes" if self.operators or self.operator_only else "-"
        return users, keys, operators


def rpc_label(method: str) -> str:
    """``/linktor.v1.UserService/CreateUser`` -> ``UserService.CreateUser``."""
    return method.rsplit(".", 1)[-1].replace("/", ".")


def authorize(rule: Rule, principal: Principal, method: str) -> None:
    """PermissionDenied, saying what is missing, unless ``principal`` may call ``method``."""
    rpc = rpc_label(method)
    if rule.public or rule.authenticated:
        return
    if principal.platform_operator:
        if rule.operators or rule.operator_only:
            return
        raise PermissionDenied(
            f"{rpc} is not available to platform operators; use tenant credentials"
        )
    if rule.operator_only:
        raise PermissionDenied(f"{rpc} is for platform operators only")
    if principal.api_key_id is not None:
        if rule.scope is None:
            raise PermissionDenied(f"{rpc} cannot be called with an API key; log in as a user")
        if not has_scope(principal.scopes, rule.scope):
            raise PermissionDenied(
                f"this API key lacks the scope {rule.scope!r} that {rpc} needs",
                metadata={"scope": rule.scope},
            )
        return
    if rule.role is None:
        raise PermissionDenied(f"{rpc} cannot be called by users")
    if principal.role is None or not principal.role.at_least(rule.role):
        current = principal.role.value.lower() if principal.role else "none"
        raise PermissionDenied(
            f"{rpc} requires the {rule.role.value.lower()} role or higher; yours is {current}",
            metadata={"role": rule.role.value},
        )
