"""TenantMembers answered by the identity context's use cases (its app ring)."""

from __future__ import annotations

from linktor.server.identity.app.users import UserAdmin
from linktor.server.identity.domain.user import UserState
from linktor.server.shared.errors import NotFound
from linktor.server.shared.principal import Principal


class IdentityMembers:
    def __init__(self, users: UserAdmin) -> None:
        self._users = users

    async def is_active_member(self, principal: Principal, tenant_id: str, user_id: str) -> bool:
        try:
            member = await self._users.get(principal, tenant_id, user_id)
        except NotFound:
            return False
        return member.state is UserState.ACTIVE
