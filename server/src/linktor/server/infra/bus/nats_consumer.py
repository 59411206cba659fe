"""One ``consume`` call on the NATS bus: a durable pull consumer and its fetch loop.

The loop fetches only as many messages as it has free handler slots, so ``max_in_flight``
holds locally (``max_ack_pending`` follows :func:`ack_pending_limit`). The loop never gives
up: timeouts, disconnects and a server that lost the consumer are retried with backoff, and
a reconnect re-issues the pull at once instead of waiting for it to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from linktor.server.infra.bus.dispatch import (
    ack_pending_limit,
    finish_handlers,
    run_durable_handler,
)
from linktor.server.infra.bus.port import BusError, Delivery, DeliveryHandler

if TYPE_CHECKING:
    from nats.js import JetStreamContext

    from linktor.server.infra.bus.nats import NatsJetStreamBus

log = logging.getLogger("linktor.bus")

_MSG_ID_HEADER = "Nats-Msg-Id"
_RETRY_FIRST = 0.2
_RETRY_MAX = 5.0


@dataclass(frozen=True)
class ConsumerSettings:
    stream: str
    name: str  # the JetStream consumer (durable) name
    pattern: str
    max_in_flight: int
    ack_wait_seconds: float
    max_deliver: int
    fetch_wait_seconds: float
    check_every_seconds: float
    ack_timeout_seconds: float
    drain_timeout_seconds: float

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            name=self.name,
            durable_name=self.name,
            filter_subject=self.pattern,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_seconds,
            max_deliver=self.max_deliver if self.max_deliver > 0 else -1,
            max_ack_pending=ack_pending_limit(self.max_in_flight),
        )


class PullConsumer:
    """A running durable subscription (a :class:`~linktor.server.infra.bus.port.Subscription`)."""

    def __init__(
        self,
        bus: NatsJetStreamBus,
        settings: ConsumerSettings,
        handler: DeliveryHandler,
        forget: Callable[[PullConsumer], None],
    ) -> None:
        self._bus = bus
        self._settings = settings
        self._handler = handler
        self._forget = forget
        self._loop = asyncio.get_running_loop()
        self._handlers: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._psub: JetStreamContext.PullSubscription | None = None
        self._puller: asyncio.Task[None] | None = None
        self._fetch: asyncio.Task[list[Msg]] | None = None
        self._redeclare = False
        self._stopped = False

    async def open(self) -> None:
        """Create or update the consumer (idempotent) and start fetching."""
        await self._declare()
        js, _ = self._bus.jetstream()
        try:
            self._psub = await js.pull_subscribe_bind(
                durable=self._settings.name, stream=self._settings.stream
            )
        except Exception as exc:
            raise BusError(f"cannot bind to consumer {self._describe()}: {exc}") from exc
        self._puller = self._loop.create_task(self._pull())

    def reconnected(self) -> None:
        """The connection came back: re-declare the consumer and re-issue the pull now."""
        self._redeclare = True
        if self._fetch is not None:
            self._fetch.cancel()

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._puller is not None:
            self._puller.cancel()
            await asyncio.wait({self._puller})
        # Handlers still need the connection to ack: finish them before unsubscribing.
        await finish_handlers(self._handlers, self._settings.drain_timeout_seconds)
        if self._psub is not None:
            with contextlib.suppress(Exception):
                await self._psub.unsubscribe()
        self._forget(self)

    # ------------------------------------------------------------------ fetch loop

    async def _pull(self) -> None:
        retry_delay = _RETRY_FIRST
        verified_at = self._loop.time()  # when the consumer last proved to exist
        while True:
            while len(self._handlers) >= self._settings.max_in_flight:
                self._slot_freed.clear()
                await self._slot_freed.wait()
            try:
                if self._redeclare:
                    await self._bus.declare_stream_of(self._settings.stream)
                    await self._declare()
                    self._redeclare = False
                    verified_at = self._loop.time()
                messages = await self._fetch_batch()
            except TimeoutError:
                # Idle. A pull on a consumer that no longer exists just times out too, so
                # now and then check it is there (a server may lose its state unnoticed).
                if self._loop.time() - verified_at >= self._settings.check_every_seconds:
                    verified_at = self._loop.time()
                    self._redeclare = not await self._exists()
                continue
            except Exception as exc:
                if isinstance(exc, nats.js.errors.APIError):
                    self._redeclare = True  # e.g. 503: nobody serves this consumer any more
                retry_delay = await self._pause(exc, retry_delay)
                continue
            retry_delay = _RETRY_FIRST
            if messages:
                verified_at = self._loop.time()
            for msg in messages:
                self._spawn(msg)

    async def _fetch_batch(self) -> list[Msg]:
        """One pull for the free handler slots; [] when reconnected() cut it short."""
        assert self._psub is not None
        free = self._settings.max_in_flight - len(self._handlers)
        fetch = self._loop.create_task(
            self._psub.fetch(free, timeout=self._settings.fetch_wait_seconds)
        )
        fetch.add_done_callback(_retrieve_outcome)
        self._fetch = fetch
        try:
            await asyncio.wait({fetch})
        finally:
            self._fetch = None
            fetch.cancel()
        if fetch.cancelled():
            return []
        return fetch.result()

    async def _exists(self) -> bool:
        _, jsm = self._bus.jetstream()
        try:
            await jsm.consumer_info(self._settings.stream, self._settings.name)
        except nats.js.errors.NotFoundError:
            return False
        except Exception:
            return True  # cannot tell now: the next pull or check will
        return True

    async def _pause(self, exc: BaseException, delay: float) -> float:
        if not self._bus.closing:
            log.warning("bus consumer %s: pull failed, retrying: %s", self._describe(), exc)
        await asyncio.sleep(delay)
        return min(delay * 2, _RETRY_MAX)

    async def _declare(self) -> None:
        _, jsm = self._bus.jetstream()
        try:
            # Create or update: CONSUMER.CREATE without an action does both (nats-server 2.10+).
            await jsm.add_consumer(self._settings.stream, self._settings.config())
        except Exception as exc:
            raise BusError(
                f"cannot create or update consumer {self._describe()}: {exc or type(exc).__name__}"
            ) from exc

    def _describe(self) -> str:
        s = self._settings
        return f"{s.stream}/{s.name} ({s.pattern})"

    # ------------------------------------------------------------------ handlers

    def _spawn(self, msg: Msg) -> None:
        task = self._loop.create_task(self._handle(msg))
        self._handlers.add(task)
        task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task[None]) -> None:
        self._handlers.discard(task)
        self._slot_freed.set()

    async def _handle(self, msg: Msg) -> None:
        raw_headers = msg.headers or {}
        msg_id = raw_headers.get(_MSG_ID_HEADER)
        # Nats-* headers are the bus's own (msg id, expected stream), not the publisher's.
        headers = {k: v for k, v in raw_headers.items() if not k.lower().startswith("nats-")}
        try:
            attempt = msg.metadata.num_delivered
        except nats.errors.Error:
            attempt = 1
        delivery = Delivery(
            subject=msg.subject,
            data=msg.data,
            msg_id=msg_id,
            headers=headers,
            attempt=attempt,
            _settle=functools.partial(self._settle, msg),
        )
        await run_durable_handler(self._handler, delivery)

    async def _settle(self, msg: Msg, action: str, delay: float) -> None:
        try:
            if action == "ack":
                # Wait for the server's confirmation: once ack() returns the message is done.
                await msg.ack_sync(timeout=self._settings.ack_timeout_seconds)
            elif action == "nak":
                await msg.nak(delay=delay if delay > 0 else None)
            elif action == "term":
                await msg.term()
            elif action == "progress":
                await msg.in_progress()
        except Exception as exc:
            raise BusError(
                f"{action} of a message on {msg.subject!r} failed: {exc or type(exc).__name__}"
            ) from exc


def _retrieve_outcome(task: asyncio.Task[list[Msg]]) -> None:
    """Mark a fetch's exception as seen: a fetch cut short by stop() may end in
    ConnectionClosedError once the bus closes, and nobody awaits it any more."""
    if not task.cancelled():
        task.exception()
