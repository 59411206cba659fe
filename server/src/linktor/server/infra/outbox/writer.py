"""Writing outbox rows in the current transaction.

Rows are buffered and inserted with one statement when the unit of work commits
(:meth:`OutboxWriter.flush`), so a use case that records several events pays one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.infra.outbox.table import outbox


@dataclass(frozen=True)
class OutboxRow:
    tenant_id: str
    subject: str
    msg_id: str
    payload: bytes
    create_time: datetime
    headers: Mapping[str, str] = field(default_factory=dict)


class OutboxWriter:
    """Buffers outbox rows for the transaction of ``conn``."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._pending: list[OutboxRow] = []

    def add(self, row: OutboxRow) -> None:
        self._pending.append(row)

    async def flush(self) -> None:
        """Insert the buffered rows (called by the unit of work before it commits)."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        await self._conn.execute(
            insert(outbox),
            [
                {
                    "tenant_id": r.tenant_id,
                    "subject": r.subject,
                    "msg_id": r.msg_id,
                    "payload": r.payload,
                    "headers": dict(r.headers),
                    "create_time": r.create_time,
                }
                for r in rows
            ],
        )
