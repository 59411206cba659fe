"""Live fan-out of events to the streams open in this process.

Every replica listens on ``linktor.live.>`` (core NATS, or the in-process bus): the relay leader
broadcasts each stored event there once, so a stream open on any replica sees events produced
on any other. Ephemeral events (typing, presence) travel the same way without a sequence.
A subscriber that falls behind by more than its buffer is marked lagging and catches up from
the event log instead of losing events.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from linktor.server.events.domain.types import LIVE_SUBJECT_PREFIX, live_subject
from linktor.server.infra.bus.port import EventBus, Subscription
from linktor.server.logs import get_logger
from linktor.v1 import event_pb2

log = get_logger(__name__)

BUFFER = 10_000


@dataclass(eq=False)
class LiveSubscriber:
    tenant_id: str
    queue: asyncio.Queue[event_pb2.Event] = field(
        default_factory=lambda: asyncio.Queue(maxsize=BUFFER)
    )
    # Set when events were dropped because the queue was full: re-read the log.
    lagging: bool = False
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)


class EventHub:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._subscribers: dict[str, set[LiveSubscriber]] = defaultdict(set)
        self._listening: Subscription | None = None

    async def start(self) -> None:
        self._listening = await self._bus.listen(f"{LIVE_SUBJECT_PREFIX}>", self._on_message)

    async def stop(self) -> None:
        if self._listening is not None:
            await self._listening.stop()

    def subscribe(self, tenant_id: str) -> LiveSubscriber:
        subscriber = LiveSubscriber(tenant_id)
        self._subscribers[tenant_id].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: LiveSubscriber) -> None:
        subscribers = self._subscribers.get(subscriber.tenant_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[subscriber.tenant_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def publish_ephemeral(self, tenant_id: str, event: event_pb2.Event) -> None:
        """Send an ephemeral event (no sequence, not stored) to every replica's streams."""
        event.ephemeral = True
        event.sequence = 0
        await self._bus.broadcast(live_subject(tenant_id), event.SerializeToString())

    async def _on_message(self, subject: str, data: bytes) -> None:
        tenant_id = subject.removeprefix(LIVE_SUBJECT_PREFIX)
        subscribers = self._subscribers.get(tenant_id)
        if not subscribers:
            return
        try:
            event = event_pb2.Event.FromString(data)
        except Exception:  # a malformed broadcast must not stop the listener
            log.warning("malformed live event dropped", subject=subject)
            return
        for subscriber in list(subscribers):
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.lagging = True
            subscriber.wakeup.set()
