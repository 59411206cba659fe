"""The worker that reopens snoozed conversations when their snooze time comes.

Each pass finds due conversations of every tenant (a privileged read), then wakes each one in
its own tenant-scoped transaction, re-checking under the row lock: a conversation the contact
already reopened, or an agent snoozed again, is left alone. Several replicas may run it at
once; the version check makes a conversation wake once.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from linktor.server.conversations.app.ports import ConversationsStore
from linktor.server.conversations.domain.events import ConversationUpdated
from linktor.server.logs import get_logger
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import Aborted

log = get_logger(__name__)


class SnoozeWaker:
    def __init__(
        self,
        store: ConversationsStore,
        clock: Clock,
        *,
        interval: timedelta = timedelta(seconds=15),
        batch: int = 200,
    ) -> None:
        self._store = store
        self._clock = clock
        self._interval = interval
        self._batch = batch

    async def wake_due(self) -> int:
        """One pass; how many conversations it reopened."""
        async with self._store.privileged() as uow:
            due = await uow.conversations.due_snoozes(self._clock.now(), limit=self._batch)
        woken = 0
        for tenant_id, conversation_id in due:
            try:
                woken += await self._wake(tenant_id, conversation_id)
            except Aborted:
                continue  # changed under us: the next pass looks again
        return woken

    async def _wake(self, tenant_id: str, conversation_id: str) -> int:
        async with self._store.scoped(tenant_id) as uow:
            current = await uow.conversations.get(tenant_id, conversation_id, for_update=True)
            woke = current.wake_if_due(self._clock.now()) if current else None
            if current is None or woke is None:
                return 0
            saved = await uow.conversations.update(woke, expected_version=current.version)
            await uow.events.record(ConversationUpdated(saved))
            await uow.commit()
        return 1

    async def run(self, stop: asyncio.Event) -> None:
        """Wake due conversations every interval until ``stop`` is set."""
        while not stop.is_set():
            try:
                woken = await self.wake_due()
                if woken:
                    log.info("snoozed conversations reopened", count=woken)
            except Exception:
                log.exception("snooze waker pass failed; retrying next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval.total_seconds())
