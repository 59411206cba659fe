"""Recovery: republish what the fast path may have lost.

The bus is the fast path; the database is the record. A message whose work item was lost
(a crash between the outbox relay's commit and its publish, an in-process bus that died with
its process, a bus outage) stays pending in the database; an event that did not reach the bus
stays unpublished. This sweeper finds both and publishes them again. Duplicates it may cause
are harmless: workers claim messages with a lease, and event msg_ids are stable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.events.domain.types import events_subject
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.idempotency.store import SqlIdempotencyStore
from linktor.server.logs import get_logger
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.delivery_queue import outbound_subject, work_item
from linktor.server.shared.clock import Clock

log = get_logger(__name__)

STALE_AFTER = timedelta(seconds=30)
UNPUBLISHED_AFTER = timedelta(seconds=10)
BATCH = 500


class Sweeper:
    def __init__(
        self,
        uow: Callable[[], SqlMessagingUnitOfWork],
        bus: EventBus,
        clock: Clock,
        *,
        interval_seconds: float = 5.0,
        event_retention: timedelta = timedelta(days=7),
        housekeeping_interval_seconds: float = 600.0,
    ) -> None:
        self._uow = uow
        self._bus = bus
        self._clock = clock
        self._interval = min(interval_seconds, housekeeping_interval_seconds)
        self._retention = event_retention
        # Housekeeping runs every so many sweep rounds (the first round included).
        self._housekeeping_every = max(1, round(housekeeping_interval_seconds / self._interval))

    async def run(self, stopping: asyncio.Event) -> None:
        # The first round recovers right away what a previous process left behind.
        rounds = 0
        first = True
        while not stopping.is_set():
            try:
                await self.sweep(recover_all=first)
                if rounds % self._housekeeping_every == 0:
                    await self.housekeeping()
            except Exception as exc:
                log.warning("sweep failed", error=str(exc) or type(exc).__name__)
            first = False
            rounds += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval)

    async def sweep(self, *, recover_all: bool = False) -> tuple[int, int]:
        """Republish stale pending messages and unpublished events; returns both counts."""
        now = self._clock.now()
        async with self._uow() as uow:
            stale = await uow.messages.stale(now if recover_all else now - STALE_AFTER, BATCH)
            unpublished = await SqlEventLog(uow.connection).unpublished(
                now - UNPUBLISHED_AFTER, BATCH
            )
        for message in stale:
            # A fresh msg_id: the original one may still be inside the duplicate window.
            msg_id = f"{message.id}.{message.attempt_count}.{int(now.timestamp()) // 60}"
            await self._bus.publish(
                outbound_subject(message.channel_id), work_item(message).encode(), msg_id=msg_id
            )
        for event in unpublished:
            await self._bus.publish(
                events_subject(event.tenant_id),
                event.payload,
                msg_id=f"{event.tenant_id}.{event.sequence}",
            )
        if unpublished:
            async with self._uow() as uow:
                await SqlEventLog(uow.connection).mark_published(
                    [(e.tenant_id, e.sequence) for e in unpublished]
                )
                await uow.commit()
        if stale or unpublished:
            log.info("swept", messages=len(stale), events=len(unpublished))
        return len(stale), len(unpublished)

    async def housekeeping(self) -> None:
        """Drop events past retention and expired idempotency keys."""
        now = self._clock.now()
        async with self._uow() as uow:
            purged = await SqlEventLog(uow.connection).purge(now - self._retention)
            keys = await SqlIdempotencyStore(uow.connection).purge_expired(now)
            await uow.commit()
        if purged or keys:
            log.info("housekeeping", events_purged=purged, idempotency_keys_purged=keys)
