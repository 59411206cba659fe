"""SQL implementations of the identity context's repositories and unit of work."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.identity.adapters.sql_audit import SqlAuditRepository, SqlUsageRepository
from linktor.server.identity.adapters.sql_credentials import (
    SqlApiKeyRepository,
    SqlOperatorKeyRepository,
    SqlPasswordSetupRepository,
    SqlRefreshTokenRepository,
)
from linktor.server.identity.adapters.sql_people import SqlMembershipRepository, SqlUserRepository
from linktor.server.identity.adapters.tables import tenants
from linktor.server.identity.domain.tenant import Tenant, TenantState
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.idempotency.store import SqlIdempotencyStore
from linktor.server.shared.errors import Aborted, AlreadyExists


def _tenant_from_row(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        display_name=row.display_name,
        state=TenantState(row.state),
        plan=row.plan,
        create_time=row.create_time,
        update_time=row.update_time,
        suspend_reason=row.suspend_reason,
        version=row.version,
    )


class SqlTenantRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, tenant: Tenant) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(tenants).values(
                        id=tenant.id,
                        display_name=tenant.display_name,
                        state=tenant.state.value,
                        plan=tenant.plan,
                        suspend_reason=tenant.suspend_reason,
                        create_time=tenant.create_time,
                        update_time=tenant.update_time,
                        version=tenant.version,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"{tenant.name} already exists") from exc

    async def get(self, tenant_id: str) -> Tenant | None:
        row = (
            await self._conn.execute(select(tenants).where(tenants.c.id == tenant_id))
        ).one_or_none()
        return None if row is None else _tenant_from_row(row)

    async def update(self, tenant: Tenant, *, expected_version: int) -> Tenant:
        new_version = expected_version + 1
        result = await self._conn.execute(
            update(tenants)
            .where(tenants.c.id == tenant.id, tenants.c.version == expected_version)
            .values(
                display_name=tenant.display_name,
                state=tenant.state.value,
                plan=tenant.plan,
                suspend_reason=tenant.suspend_reason,
                update_time=tenant.update_time,
                version=new_version,
            )
        )
        if result.rowcount != 1:
            raise Aborted(f"{tenant.name} was changed concurrently; read it again")
        return replace(tenant, version=new_version)

    async def lock(self, tenant_id: str) -> None:
        # PostgreSQL: row lock until commit. SQLite: BEGIN IMMEDIATE already serializes writers.
        await self._conn.execute(
            select(tenants.c.id).where(tenants.c.id == tenant_id).with_for_update()
        )

    async def list(
        self, *, limit: int, after_id: str | None = None, state: TenantState | None = None
    ) -> list[Tenant]:
        query = select(tenants).order_by(tenants.c.id).limit(limit)
        if after_id is not None:
            query = query.where(tenants.c.id > after_id)
        if state is not None:
            query = query.where(tenants.c.state == state.value)
        return [_tenant_from_row(row) for row in await self._conn.execute(query)]


class SqlIdentityUnitOfWork(SqlUnitOfWork):
    tenants: SqlTenantRepository
    users: SqlUserRepository
    memberships: SqlMembershipRepository
    api_keys: SqlApiKeyRepository
    refresh_tokens: SqlRefreshTokenRepository
    password_setups: SqlPasswordSetupRepository
    audit: SqlAuditRepository
    operator_keys: SqlOperatorKeyRepository
    usage: SqlUsageRepository
    idempotency: SqlIdempotencyStore

    def _bind(self, conn: AsyncConnection) -> None:
        self.tenants = SqlTenantRepository(conn)
        self.users = SqlUserRepository(conn)
        self.memberships = SqlMembershipRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.refresh_tokens = SqlRefreshTokenRepository(conn)
        self.password_setups = SqlPasswordSetupRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.operator_keys = SqlOperatorKeyRepository(conn)
        self.usage = SqlUsageRepository(conn)
        self.idempotency = SqlIdempotencyStore(conn)


class SqlIdentityStore:
    """Units of work on one engine: tenant-scoped (RLS) or privileged (every tenant)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def scoped(self, tenant_id: str) -> SqlIdentityUnitOfWork:
        return SqlIdentityUnitOfWork(self._engine, tenant_id=tenant_id)

    def privileged(self) -> SqlIdentityUnitOfWork:
        return SqlIdentityUnitOfWork(self._engine, privileged=True)
