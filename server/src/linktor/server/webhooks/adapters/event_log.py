"""The EventLog port over the events context's SQL event log (read-only, tenant-scoped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.webhooks.app.ports import LoggedEvent


class SqlEventLogReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def after(self, tenant_id: str, after_sequence: int, limit: int) -> list[LoggedEvent]:
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id) as uow:
            stored = await SqlEventLog(uow.connection).after(tenant_id, after_sequence, limit)
        return [LoggedEvent(e.sequence, e.type, e.payload, e.create_time) for e in stored]

    async def first_sequence_at(self, tenant_id: str, start: datetime) -> int | None:
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id) as uow:
            return await SqlEventLog(uow.connection).first_sequence_at(tenant_id, start)
