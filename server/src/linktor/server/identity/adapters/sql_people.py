"""SQL repositories of people (users) and their memberships in tenants."""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.identity.adapters.tables import memberships, users
from linktor.server.identity.domain.user import Membership, User, UserState
from linktor.server.shared.errors import Aborted, AlreadyExists
from linktor.server.shared.principal import Role


def _user(row: Any) -> User:
    return User(row.id, row.email, row.password_hash, row.create_time, row.update_time)


def _membership(row: Any) -> Membership:
    return Membership(
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        email=row.email,
        display_name=row.display_name,
        role=Role(row.role),
        state=UserState(row.state),
        create_time=row.create_time,
        update_time=row.update_time,
        last_login_time=row.last_login_time,
        version=row.version,
    )


class SqlUserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, user: User) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(users).values(
                        id=user.id,
                        email=user.email,
                        password_hash=user.password_hash,
                        create_time=user.create_time,
                        update_time=user.update_time,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"a user with email {user.email} already exists") from exc

    async def get(self, user_id: str) -> User | None:
        row = (await self._conn.execute(select(users).where(users.c.id == user_id))).one_or_none()
        return None if row is None else _user(row)

    async def get_by_email(self, email: str) -> User | None:
        query = select(users).where(users.c.email == email)
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else _user(row)

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, update_time=now)
        )


_MEMBER_COLUMNS = (*memberships.c, users.c.email)
_JOINED = memberships.join(users, users.c.id == memberships.c.user_id)


class SqlMembershipRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, membership: Membership) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(memberships).values(
                        tenant_id=membership.tenant_id,
                        user_id=membership.user_id,
                        display_name=membership.display_name,
                        role=membership.role.value,
                        state=membership.state.value,
                        last_login_time=membership.last_login_time,
                        create_time=membership.create_time,
                        update_time=membership.update_time,
                        version=membership.version,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"{membership.email} is already a user of this tenant") from exc

    async def get(self, tenant_id: str, user_id: str) -> Membership | None:
        query = (
            select(*_MEMBER_COLUMNS)
            .select_from(_JOINED)
            .where(memberships.c.tenant_id == tenant_id, memberships.c.user_id == user_id)
        )
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else _membership(row)

    async def list(
        self, tenant_id: str, *, limit: int, after_email: str | None, include_deactivated: bool
    ) -> list[Membership]:
        query = (
            select(*_MEMBER_COLUMNS)
            .select_from(_JOINED)
            .where(memberships.c.tenant_id == tenant_id)
            .order_by(users.c.email)
            .limit(limit)
        )
        if after_email is not None:
            query = query.where(users.c.email > after_email)
        if not include_deactivated:
            query = query.where(memberships.c.state != UserState.DEACTIVATED.value)
        return [_membership(row) for row in await self._conn.execute(query)]

    async def list_for_user(self, user_id: str) -> builtins.list[Membership]:
        query = (
            select(*_MEMBER_COLUMNS)
            .select_from(_JOINED)
            .where(memberships.c.user_id == user_id)
            .order_by(memberships.c.tenant_id)
        )
        return [_membership(row) for row in await self._conn.execute(query)]

    async def update(self, membership: Membership, *, expected_version: int) -> Membership:
        new_version = expected_version + 1
        result = await self._conn.execute(
            update(memberships)
            .where(
                memberships.c.tenant_id == membership.tenant_id,
                memberships.c.user_id == membership.user_id,
                memberships.c.version == expected_version,
            )
            .values(
                display_name=membership.display_name,
                role=membership.role.value,
                state=membership.state.value,
                last_login_time=membership.last_login_time,
                update_time=membership.update_time,
                version=new_version,
            )
        )
        if result.rowcount != 1:
            raise Aborted(f"{membership.name} was changed concurrently; read it again")
        return replace(membership, version=new_version)

    async def count(self, tenant_id: str, *, role: str | None = None) -> int:
        query = select(func.count()).where(
            memberships.c.tenant_id == tenant_id,
            memberships.c.state != UserState.DEACTIVATED.value,
        )
        if role is not None:
            query = query.where(memberships.c.role == role)
        return int((await self._conn.execute(query)).scalar_one())
