"""The event log in SQL: per-tenant sequence allocation, storage, reads and housekeeping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.events.adapters.tables import event_sequences, events


@dataclass(frozen=True)
class StoredEvent:
    tenant_id: str
    sequence: int
    type: str
    payload: bytes
    create_time: datetime


class SqlEventLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def allocate(self, tenant_id: str, count: int) -> int:
        """Reserve ``count`` sequence numbers for a tenant; returns the first.

        The counter row is locked until the transaction ends, so concurrent relays (there
        should be one leader, but a takeover may overlap) cannot hand out a number twice.
        """
        result = await self._conn.execute(
            update(event_sequences)
            .where(event_sequences.c.tenant_id == tenant_id)
            .values(last_sequence=event_sequences.c.last_sequence + count)
            .returning(event_sequences.c.last_sequence)
        )
        last = result.scalar_one_or_none()
        if last is None:
            await self._conn.execute(
                insert(event_sequences).values(tenant_id=tenant_id, last_sequence=count)
            )
            last = count
        return int(last) - count + 1

    async def append(self, rows: Sequence[StoredEvent], subject_names: Sequence[str]) -> None:
        if not rows:
            return
        await self._conn.execute(
            insert(events),
            [
                {
                    "tenant_id": r.tenant_id,
                    "sequence": r.sequence,
                    "type": r.type,
                    "subject_name": name,
                    "payload": r.payload,
                    "create_time": r.create_time,
                    "published": False,
                }
                for r, name in zip(rows, subject_names, strict=True)
            ],
        )

    async def mark_published(self, keys: Sequence[tuple[str, int]]) -> None:
        if keys:
            await self._conn.execute(
                update(events)
                .where(tuple_(events.c.tenant_id, events.c.sequence).in_(list(keys)))
                .values(published=True)
            )

    async def unpublished(self, older_than: datetime, limit: int) -> list[StoredEvent]:
        query = (
            select(events)
            .where(events.c.published.is_(False), events.c.create_time < older_than)
            .order_by(events.c.tenant_id, events.c.sequence)
            .limit(limit)
        )
        return [_stored(row) for row in await self._conn.execute(query)]

    async def after(
        self,
        tenant_id: str,
        after_sequence: int,
        limit: int,
        *,
        subject_name: str = "",
    ) -> list[StoredEvent]:
        """Stored events of a tenant with a sequence greater than ``after_sequence``, in order,
        optionally only those about one resource (a conversation's name)."""
        query = (
            select(events)
            .where(events.c.tenant_id == tenant_id, events.c.sequence > after_sequence)
            .order_by(events.c.sequence)
            .limit(limit)
        )
        if subject_name:
            query = query.where(events.c.subject_name == subject_name)
        return [_stored(row) for row in await self._conn.execute(query)]

    async def first_sequence(self, tenant_id: str) -> int | None:
        """The oldest sequence still stored for the tenant (None when none is)."""
        value = (
            await self._conn.execute(
                select(func.min(events.c.sequence)).where(events.c.tenant_id == tenant_id)
            )
        ).scalar_one_or_none()
        return None if value is None else int(value)

    async def first_sequence_at(self, tenant_id: str, start: datetime) -> int | None:
        """The first stored sequence of an event created at or after ``start`` (None when
        there is none); webhook replays start there."""
        value = (
            await self._conn.execute(
                select(func.min(events.c.sequence)).where(
                    events.c.tenant_id == tenant_id, events.c.create_time >= start
                )
            )
        ).scalar_one_or_none()
        return None if value is None else int(value)

    async def last_sequence(self, tenant_id: str) -> int:
        value = (
            await self._conn.execute(
                select(event_sequences.c.last_sequence).where(
                    event_sequences.c.tenant_id == tenant_id
                )
            )
        ).scalar_one_or_none()
        return int(value or 0)

    async def purge(self, older_than: datetime, limit: int = 10_000) -> int:
        """Delete published events created before ``older_than`` (retention)."""
        doomed = (
            select(events.c.tenant_id, events.c.sequence)
            .where(and_(events.c.create_time < older_than, events.c.published.is_(True)))
            .limit(limit)
        )
        keys = [(r.tenant_id, r.sequence) for r in await self._conn.execute(doomed)]
        if keys:
            await self._conn.execute(
                delete(events).where(tuple_(events.c.tenant_id, events.c.sequence).in_(keys))
            )
        return len(keys)


def _stored(row: object) -> StoredEvent:
    return StoredEvent(
        tenant_id=row.tenant_id,  # type: ignore[attr-defined]
        sequence=row.sequence,  # type: ignore[attr-defined]
        type=row.type,  # type: ignore[attr-defined]
        payload=row.payload,  # type: ignore[attr-defined]
        create_time=row.create_time,  # type: ignore[attr-defined]
    )
