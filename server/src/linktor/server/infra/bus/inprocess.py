"""The embedded event bus: asyncio only, zero configuration, one process.

It behaves like the NATS JetStream bus (subject wildcards, msg_id dedupe window, competing
consumers per durable name, redelivery after nak / handler error / ack timeout, max_deliver,
work-queue and limits streams) so the same tests run against both. It is NOT persistent: a
process restart forgets every stream. In embedded mode the database outbox is the durable
record and the relay republishes what was not confirmed, so nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping, Sequence

from linktor.server.infra.bus.dispatch import (
    QueuedListener,
    ack_pending_limit,
    finish_handlers,
    run_durable_handler,
)
from linktor.server.infra.bus.memstream import ConsumerGroup, Handout, MemoryStream
from linktor.server.infra.bus.port import (
    STREAMS,
    BroadcastHandler,
    BusError,
    Delivery,
    DeliveryHandler,
    StreamSpec,
    Subscription,
)
from linktor.server.infra.bus.subjects import (
    check_pattern,
    check_subject,
    consume_stream,
    durable_consumer_name,
    matches,
    publish_stream,
)


class InProcessBus:
    """An :class:`~linktor.server.infra.bus.port.EventBus` living in this process's memory.

    Memory is bounded: ``max_stream_messages`` per stream (a full work-queue stream refuses
    publishes with BusError; a full log stream drops its oldest message), ``max_dedupe_ids``
    remembered msg_ids per stream, ``max_queued_broadcasts`` per listener (then dropped).
    """

    def __init__(
        self,
        *,
        streams: Sequence[StreamSpec] = STREAMS,
        max_stream_messages: int = 100_000,
        max_dedupe_ids: int = 100_000,
        max_queued_broadcasts: int = 1_000,
        drain_timeout_seconds: float = 30.0,
    ) -> None:
        self._specs = tuple(streams)
        self._max_stream_messages = max_stream_messages
        self._max_dedupe_ids = max_dedupe_ids
        self._max_queued_broadcasts = max_queued_broadcasts
        self._drain_timeout = drain_timeout_seconds
        self._streams: dict[str, MemoryStream] = {}
        self._subscriptions: set[Subscription] = set()
        self._listeners: set[QueuedListener] = set()
        self._started = False
        self._closed = False

    async def start(self) -> None:
        if self._closed:
            raise BusError("the in-process bus is closed")
        for spec in self._specs:
            if spec.name not in self._streams:
                self._streams[spec.name] = MemoryStream(
                    spec,
                    max_messages=self._max_stream_messages,
                    max_dedupe_ids=self._max_dedupe_ids,
                )
        self._started = True

    async def close(self) -> None:
        self._closed = True
        subscriptions = list(self._subscriptions)
        await asyncio.gather(*(subscription.stop() for subscription in subscriptions))

    async def ping(self) -> None:
        self._check_open()

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        self._check_open()
        spec = publish_stream(self._specs, subject)
        now = asyncio.get_running_loop().time()
        return self._streams[spec.name].store(subject, data, msg_id, headers or {}, now)

    async def consume(
        self,
        subject: str,
        durable: str,
        handler: DeliveryHandler,
        *,
        max_in_flight: int = 64,
        ack_wait_seconds: float = 30.0,
        max_deliver: int = -1,
    ) -> Subscription:
        self._check_open()
        spec = consume_stream(
            self._specs, subject, max_in_flight=max_in_flight, ack_wait_seconds=ack_wait_seconds
        )
        # Same name rules as JetStream, so a name that works here works in scaled mode.
        group = self._streams[spec.name].group(
            durable_consumer_name(durable),
            subject,
            ack_wait=ack_wait_seconds,
            max_deliver=max_deliver,
            max_ack_pending=ack_pending_limit(max_in_flight),
        )
        subscription = _DurableSubscription(
            group, handler, max_in_flight, self._drain_timeout, self._subscriptions.discard
        )
        self._subscriptions.add(subscription)
        return subscription

    async def broadcast(self, subject: str, data: bytes) -> None:
        self._check_open()
        check_subject(subject)
        for listener in list(self._listeners):
            if matches(listener.pattern, subject):
                listener.offer(subject, data)

    async def listen(self, subject: str, handler: BroadcastHandler) -> Subscription:
        self._check_open()
        check_pattern(subject)
        listener = QueuedListener(subject, handler, max_queued=self._max_queued_broadcasts)
        self._listeners.add(listener)
        subscription = _ListenSubscription(listener, self)
        self._subscriptions.add(subscription)
        return subscription

    def _check_open(self) -> None:
        if self._closed:
            raise BusError("the in-process bus is closed")
        if not self._started:
            raise BusError("the in-process bus is not started (call start() first)")

    def _forget_listener(self, subscription: _ListenSubscription) -> None:
        self._listeners.discard(subscription.listener)
        self._subscriptions.discard(subscription)


class _DurableSubscription:
    """One ``consume`` call: pulls from its group while it has a free handler slot."""

    def __init__(
        self,
        group: ConsumerGroup,
        handler: DeliveryHandler,
        max_in_flight: int,
        drain_timeout: float,
        on_stopped: Callable[[Subscription], None],
    ) -> None:
        self._group = group
        self._handler = handler
        self._slots = asyncio.Semaphore(max_in_flight)
        self._drain_timeout = drain_timeout
        self._on_stopped = on_stopped
        self._loop = asyncio.get_running_loop()
        self._handlers: set[asyncio.Task[None]] = set()
        self._puller = self._loop.create_task(self._pull())
        self._stopped = False

    async def _pull(self) -> None:
        while True:
            await self._slots.acquire()
            handout = await self._group.next_handout(self._loop.time)
            # No await between the handout and create_task(): stop() cannot strand a message.
            task = self._loop.create_task(self._handle(handout))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _handle(self, handout: Handout) -> None:
        message = handout.message
        settle = functools.partial(self._settle, message.seq, handout.attempt)
        delivery = Delivery(
            subject=message.subject,
            data=message.data,
            msg_id=message.msg_id,
            headers=message.headers,
            attempt=handout.attempt,
            _settle=settle,
        )
        try:
            await run_durable_handler(self._handler, delivery)
        finally:
            self._slots.release()

    async def _settle(self, seq: int, attempt: int, action: str, delay: float) -> None:
        self._group.settle(seq, attempt, action, delay, self._loop.time())

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._puller.cancel()
        await asyncio.wait({self._puller})
        await finish_handlers(self._handlers, self._drain_timeout)
        self._on_stopped(self)


class _ListenSubscription:
    def __init__(self, listener: QueuedListener, bus: InProcessBus) -> None:
        self.listener = listener
        self._bus = bus

    async def stop(self) -> None:
        self._bus._forget_listener(self)
        await self.listener.stop()
