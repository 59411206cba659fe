"""SQL repositories of the audit log and of metered plan usage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.identity.adapters.tables import audit_entries, usage_counters
from linktor.server.identity.domain.audit import AuditEntry


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        tenant_id=row.tenant_id,
        create_time=row.create_time,
        action=row.action,
        actor=row.actor,
        resource=row.resource,
        success=row.success,
        client_address=row.client_address,
        details=dict(row.details),
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlAuditRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, entry: AuditEntry) -> None:
        await self._conn.execute(
            insert(audit_entries).values(
                id=entry.id,
                tenant_id=entry.tenant_id,
                create_time=entry.create_time,
                action=entry.action,
                actor=entry.actor,
                resource=entry.resource,
                success=entry.success,
                client_address=entry.client_address,
                details=entry.details,
            )
        )

    async def list(
        self,
        tenant_id: str,
        *,
        limit: int,
        before: tuple[datetime, str] | None,
        action_prefix: str,
        start_time: datetime | None,
    ) -> list[AuditEntry]:
        c = audit_entries.c
        query = (
            select(audit_entries)
            .where(c.tenant_id == tenant_id)
            .order_by(c.create_time.desc(), c.id.desc())
            .limit(limit)
        )
        if before is not None:
            time, entry_id = before
            query = query.where(
                or_(c.create_time < time, and_(c.create_time == time, c.id < entry_id))
            )
        if action_prefix:
            query = query.where(c.action.like(_escape_like(action_prefix) + "%", escape="\\"))
        if start_time is not None:
            query = query.where(c.create_time >= start_time)
        return [_entry(row) for row in await self._conn.execute(query)]


class SqlUsageRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def consume(
        self,
        tenant_id: str,
        metric: str,
        period: str,
        amount: int,
        maximum: int | None,
        now: datetime,
    ) -> int | None:
        key = {"tenant_id": tenant_id, "metric": metric, "period": period}
        make_insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        await self._conn.execute(
            make_insert(usage_counters)
            .values(**key, value=0, update_time=now)
            .on_conflict_do_nothing()
        )
        c = usage_counters.c
        query = (
            update(usage_counters)
            .where(c.tenant_id == tenant_id, c.metric == metric, c.period == period)
            .values(value=c.value + amount, update_time=now)
            .returning(c.value)
        )
        if maximum is not None:
            query = query.where(c.value + amount <= maximum)
        total = (await self._conn.execute(query)).scalar_one_or_none()
        return None if total is None else int(total)
