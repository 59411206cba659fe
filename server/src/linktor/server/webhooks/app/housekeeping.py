"""Housekeeping of the delivery log: finished deliveries older than the retention go."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from linktor.server.logs import get_logger
from linktor.server.shared.clock import Clock
from linktor.server.webhooks.app.ports import WebhookStore

log = get_logger(__name__)

BATCH = 5_000


class DeliveryLogHousekeeping:
    def __init__(
        self,
        store: WebhookStore,
        clock: Clock,
        *,
        retention: timedelta = timedelta(days=30),
        interval_seconds: float = 3600.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention
        self._interval = interval_seconds

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.purge()
            except Exception as exc:
                log.warning("webhook log housekeeping failed", error=str(exc) or type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval)

    async def purge(self) -> int:
        """Delete finished deliveries past retention (in batches); how many went."""
        total = 0
        while True:
            async with self._store.privileged() as uow:
                purged = await uow.deliveries.purge_finished(
                    self._clock.now() - self._retention, BATCH
                )
                await uow.commit()
            total += purged
            if purged < BATCH:
                break
        if total:
            log.info("webhook deliveries purged", count=total)
        return total
