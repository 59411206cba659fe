"""The outbox relay: moves committed outbox rows to the bus.

One relay leads at a time (a PostgreSQL advisory lock held on a dedicated connection; on
SQLite the single process leads). Each round, in one transaction, it takes the oldest rows,
hands event rows to the events context's sequencer (which numbers and stores them) and deletes
the rows; after the commit it publishes everything (JetStream, with the row's msg_id as
Nats-Msg-Id so a republish is dropped as a duplicate). A crash between commit and publish
loses nothing: undelivered messages and unpublished events are swept up and republished from
their own tables (see the messaging and events sweepers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.table import outbox
from linktor.server.logs import get_logger

log = get_logger(__name__)

_LEADER_LOCK_KEY = 7_431_002
_EVENTS_PREFIX = "linktor.events."


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    tenant_id: str
    subject: str
    msg_id: str
    payload: bytes
    headers: dict[str, str]
    create_time: datetime


@dataclass(frozen=True)
class Publication:
    subject: str
    payload: bytes
    msg_id: str | None
    # True: a durable (JetStream) publish; False: an ephemeral broadcast to live listeners.
    durable: bool = True
    headers: dict[str, str] = field(default_factory=dict)


class SequencedLike(Protocol):
    @property
    def publications(self) -> list[Publication]: ...

    @property
    def keys(self) -> list[tuple[str, int]]: ...


class EventRowHandler(Protocol):
    """What the events context does with event rows inside the relay's transaction."""

    async def sequence(
        self, conn: AsyncConnection, rows: Sequence[OutboxRecord]
    ) -> SequencedLike: ...


class PublishedHook(Protocol):
    async def __call__(self, keys: list[tuple[str, int]]) -> None: ...


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        events: EventRowHandler,
        on_published: PublishedHook,
        *,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.2,
    ) -> None:
        self._engine = engine
        self._bus = bus
        self._events = events
        self._on_published = on_published
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._wake = asyncio.Event()
        self._leader_conn: AsyncConnection | None = None

    def wake(self) -> None:
        """Something was committed to the outbox: relay it now rather than at the next poll."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Relay until ``stopping`` is set; survives database and bus outages."""
        try:
            while not stopping.is_set():
                try:
                    if not await self._lead():
                        await _sleep_or(stopping, 1.0)
                        continue
                    moved = await self.relay_once()
                except Exception as exc:
                    log.warning("outbox relay round failed", error=str(exc) or type(exc).__name__)
                    await self._release()
                    await _sleep_or(stopping, 1.0)
                    continue
                if moved < self._batch_size:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle_poll)
        finally:
            await self._release()

    async def _lead(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return True
        if self._leader_conn is not None:
            return True
        conn = await self._engine.connect()
        got = (
            await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LEADER_LOCK_KEY})
        ).scalar_one()
        await conn.commit()
        if got:
            self._leader_conn = conn
            log.info("outbox relay is the leader")
            return True
        await conn.close()
        return False

    async def _release(self) -> None:
        if self._leader_conn is not None:
            conn, self._leader_conn = self._leader_conn, None
            with contextlib.suppress(Exception):
                await conn.close()  # closing the session releases the advisory lock

    async def relay_once(self) -> int:
        """Move one batch; returns how many outbox rows it took."""
        async with SqlUnitOfWork(self._engine, privileged=True) as uow:
            conn = uow.connection
            query = select(outbox).order_by(outbox.c.id).limit(self._batch_size)
            if uow.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = [
                OutboxRecord(
                    r.id,
                    r.tenant_id,
                    r.subject,
                    r.msg_id,
                    r.payload,
                    dict(r.headers),
                    r.create_time,
                )
                for r in await conn.execute(query)
            ]
            if not rows:
                return 0
            event_rows = [r for r in rows if r.subject.startswith(_EVENTS_PREFIX)]
            publications = [
                Publication(r.subject, r.payload, r.msg_id, headers=r.headers)
                for r in rows
                if not r.subject.startswith(_EVENTS_PREFIX)
            ]
            keys: list[tuple[str, int]] = []
            if event_rows:
                batch = await self._events.sequence(conn, event_rows)
                publications += batch.publications
                keys = batch.keys
            await conn.execute(delete(outbox).where(outbox.c.id.in_([r.id for r in rows])))
            await uow.commit()
        if await self.publish(publications) and keys:
            await self._on_published(keys)
        return len(rows)

    async def publish(self, publications: Sequence[Publication]) -> bool:
        """Publish concurrently; True when all succeeded. Failures are logged and left to the
        sweepers, which republish from the messages and events tables."""

        async def durable(p: Publication) -> None:
            await self._bus.publish(p.subject, p.payload, msg_id=p.msg_id, headers=p.headers)

        async def live() -> None:
            # In order: live streams then rarely see a gap they must fill from the log.
            for p in publications:
                if not p.durable:
                    await self._bus.broadcast(p.subject, p.payload)

        results = await asyncio.gather(
            *(durable(p) for p in publications if p.durable), live(), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:
            if not isinstance(failure, Exception):
                raise failure  # cancellation and the like
        if failures:
            log.warning(
                "outbox publish failed; the sweepers will retry",
                failed=len(failures),
                total=len(publications),
                error=str(failures[0]) or type(failures[0]).__name__,
            )
        return not failures


async def _sleep_or(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
