"""The scaled event bus: NATS JetStream for durable work, core NATS for real-time fan-out.

Every replica connects to the same NATS; durable consumers with the same name share the work.
The connection reconnects forever: a nats-server restart delays messages, it does not stop a
replica. After a reconnect, streams and consumers are re-declared (idempotently) in case the
server came back without its state, and every pull is re-issued at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js import JetStreamContext, JetStreamManager
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from linktor.server.infra.bus.dispatch import QueuedListener
from linktor.server.infra.bus.nats_consumer import ConsumerSettings, PullConsumer
from linktor.server.infra.bus.port import (
    STREAMS,
    BroadcastHandler,
    BusError,
    DeliveryHandler,
    StreamSpec,
    Subscription,
)
from linktor.server.infra.bus.subjects import (
    check_pattern,
    check_subject,
    consume_stream,
    durable_consumer_name,
    publish_stream,
)

log = logging.getLogger("linktor.bus")

# JetStream error: "stream name already in use with a different configuration".
_STREAM_CONFIG_DIFFERS = 10058
_MSG_ID_HEADER = "Nats-Msg-Id"


class NatsJetStreamBus:
    """An :class:`~linktor.server.infra.bus.port.EventBus` on NATS JetStream.

    ``url`` may list several servers separated by commas. ``start`` fails with BusError when
    no server answers within ``connect_timeout_seconds``; after that the client reconnects
    forever. ``request_timeout_seconds`` bounds every JetStream request (publish, ack, stream
    and consumer management); a publish that times out raises BusError and may still have
    been stored, so callers retry with the same ``msg_id``. An idle consumer pulls every
    ``fetch_wait_seconds`` and checks every ``consumer_check_seconds`` that its JetStream
    consumer still exists (re-creating it if the server lost it).
    """

    def __init__(
        self,
        url: str,
        *,
        streams: Sequence[StreamSpec] = STREAMS,
        client_name: str = "linktor",
        connect_timeout_seconds: float = 10.0,
        request_timeout_seconds: float = 5.0,
        ping_timeout_seconds: float = 2.0,
        fetch_wait_seconds: float = 5.0,
        consumer_check_seconds: float = 30.0,
        drain_timeout_seconds: float = 30.0,
        max_queued_broadcasts: int = 1_000,
        storage: StorageType = StorageType.FILE,
        replicas: int = 1,
    ) -> None:
        self._servers = [server.strip() for server in url.split(",") if server.strip()]
        if not self._servers:
            raise BusError("no NATS server URL given")
        self._specs = tuple(streams)
        self._client_name = client_name
        self._connect_timeout = connect_timeout_seconds
        self._request_timeout = request_timeout_seconds
        self._ping_timeout = ping_timeout_seconds
        self._fetch_wait = fetch_wait_seconds
        self._consumer_check = consumer_check_seconds
        self._drain_timeout = drain_timeout_seconds
        self._max_queued_broadcasts = max_queued_broadcasts
        self._storage = storage
        self._replicas = replicas
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._jsm: JetStreamManager | None = None
        self._consumers: set[PullConsumer] = set()
        self._listeners: set[_NatsListenSubscription] = set()
        self._redeclare: asyncio.Task[None] | None = None
        self._closing = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._closing:
            raise BusError("the NATS bus is closed")
        if self._nc is None:
            self._nc = await self._connect()
            self._js = self._nc.jetstream(timeout=self._request_timeout)
            self._jsm = self._nc.jsm(timeout=self._request_timeout)
        for spec in self._specs:
            await self._declare_stream(spec)

    async def _connect(self) -> Client:
        client = Client()
        try:
            async with asyncio.timeout(self._connect_timeout):
                await client.connect(
                    servers=self._servers,
                    name=self._client_name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,  # forever: a restart must never strand a replica
                    reconnect_time_wait=0.5,  # type: ignore[arg-type]  # seconds; typed int
                    connect_timeout=2,
                    ping_interval=20,
                    max_outstanding_pings=3,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            with contextlib.suppress(Exception):
                await client.close()
            raise BusError(
                f"cannot connect to NATS at {', '.join(self._servers)} within "
                f"{self._connect_timeout:g}s: {exc or type(exc).__name__}"
            ) from exc
        return client

    async def close(self) -> None:
        self._closing = True
        subscriptions: list[Subscription] = [*self._consumers, *self._listeners]
        await asyncio.gather(*(subscription.stop() for subscription in subscriptions))
        if self._redeclare is not None:
            self._redeclare.cancel()
            await asyncio.wait({self._redeclare})
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def ping(self) -> None:
        nc = self._nc
        if nc is None or nc.is_closed:
            raise BusError("the NATS bus is not started or closed")
        if not nc.is_connected:
            raise BusError(f"NATS connection lost; reconnecting to {', '.join(self._servers)}")
        try:
            # JetStream itself must answer, not just the socket.
            await nc.jsm(timeout=self._ping_timeout).account_info()
        except Exception as exc:
            raise BusError(f"NATS JetStream is not answering: {exc or type(exc).__name__}") from exc

    # ------------------------------------------------------------------ durable work

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        js = self._jetstream()
        spec = publish_stream(self._specs, subject)
        all_headers = dict(headers or {})
        if msg_id is not None:
            all_headers[_MSG_ID_HEADER] = msg_id
        try:
            try:
                ack = await js.publish(subject, data, stream=spec.name, headers=all_headers)
            except nats.js.errors.NoStreamResponseError:
                # No stream answers for the subject: the server lost it (or JetStream is still
                # starting). Declare it again and retry once; the msg_id keeps this safe.
                await self._declare_stream(spec)
                ack = await js.publish(subject, data, stream=spec.name, headers=all_headers)
        except Exception as exc:
            raise BusError(
                f"publish to {subject!r} (msg_id {msg_id}) failed: {exc or type(exc).__name__}"
            ) from exc
        return not ack.duplicate

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
        self._jetstream()
        spec = consume_stream(
            self._specs, subject, max_in_flight=max_in_flight, ack_wait_seconds=ack_wait_seconds
        )
        settings = ConsumerSettings(
            stream=spec.name,
            name=durable_consumer_name(durable),
            pattern=subject,
            max_in_flight=max_in_flight,
            ack_wait_seconds=ack_wait_seconds,
            max_deliver=max_deliver,
            fetch_wait_seconds=self._fetch_wait,
            check_every_seconds=self._consumer_check,
            ack_timeout_seconds=self._request_timeout,
            drain_timeout_seconds=self._drain_timeout,
        )
        consumer = PullConsumer(self, settings, handler, self._consumers.discard)
        await consumer.open()
        self._consumers.add(consumer)
        return consumer

    # ------------------------------------------------------------------ ephemeral fan-out

    async def broadcast(self, subject: str, data: bytes) -> None:
        nc = self._client()
        check_subject(subject)
        try:
            await nc.publish(subject, data)
        except Exception as exc:
            raise BusError(f"broadcast to {subject!r} failed: {exc or type(exc).__name__}") from exc

    async def listen(self, subject: str, handler: BroadcastHandler) -> Subscription:
        nc = self._client()
        check_pattern(subject)
        listener = QueuedListener(subject, handler, max_queued=self._max_queued_broadcasts)

        async def on_message(msg: Msg) -> None:
            listener.offer(msg.subject, msg.data)

        try:
            nats_sub = await nc.subscribe(subject, cb=on_message)
            # Round trip: the server knows of the interest before listen() returns.
            await nc.flush(timeout=self._request_timeout)  # type: ignore[arg-type]
        except Exception as exc:
            await listener.stop()
            raise BusError(f"listen on {subject!r} failed: {exc or type(exc).__name__}") from exc
        subscription = _NatsListenSubscription(nats_sub, listener, self._listeners.discard)
        self._listeners.add(subscription)
        return subscription

    # ------------------------------------------------------------------ shared with consumers

    def jetstream(self) -> tuple[JetStreamContext, JetStreamManager]:
        """The JetStream contexts (for :class:`PullConsumer`); BusError when not started."""
        js = self._jetstream()
        assert self._jsm is not None
        return js, self._jsm

    @property
    def closing(self) -> bool:
        return self._closing

    async def declare_stream_of(self, stream_name: str) -> None:
        """Re-declare one stream (a consumer found it missing)."""
        for spec in self._specs:
            if spec.name == stream_name:
                await self._declare_stream(spec)

    # ------------------------------------------------------------------ internals

    def _client(self) -> Client:
        if self._closing:
            raise BusError("the NATS bus is closed")
        if self._nc is None:
            raise BusError("the NATS bus is not started (call start() first)")
        return self._nc

    def _jetstream(self) -> JetStreamContext:
        self._client()
        assert self._js is not None
        return self._js

    async def _declare_stream(self, spec: StreamSpec) -> None:
        jsm = self.jetstream()[1]
        config = StreamConfig(
            name=spec.name,
            subjects=list(spec.subjects),
            retention=RetentionPolicy.WORK_QUEUE if spec.work_queue else RetentionPolicy.LIMITS,
            max_age=spec.max_age_seconds or None,
            duplicate_window=spec.duplicate_window_seconds,
            storage=self._storage,
            num_replicas=self._replicas,
        )
        try:
            try:
                await jsm.add_stream(config)
            except nats.js.errors.BadRequestError as exc:
                if exc.err_code != _STREAM_CONFIG_DIFFERS:
                    raise
                await jsm.update_stream(config)
        except Exception as exc:
            raise BusError(
                f"cannot create or update stream {spec.name}: {exc or type(exc).__name__}"
            ) from exc

    async def _on_error(self, exc: Exception) -> None:
        if not self._closing:
            log.warning("NATS connection error: %s", exc or type(exc).__name__)

    async def _on_disconnected(self) -> None:
        if not self._closing:
            log.warning("NATS disconnected; reconnecting")

    async def _on_reconnected(self) -> None:
        log.info("NATS reconnected")
        if self._redeclare is None or self._redeclare.done():
            self._redeclare = asyncio.get_running_loop().create_task(self._redeclare_streams())
        for consumer in list(self._consumers):
            consumer.reconnected()

    async def _redeclare_streams(self) -> None:
        """Streams again after a reconnect (the server may have lost its state): retried
        until they exist, since JetStream may need a moment after a restart."""
        delay = 0.2
        while not self._closing:
            try:
                for spec in self._specs:
                    await self._declare_stream(spec)
                return
            except BusError as exc:
                log.warning("re-declaring streams after reconnect failed: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


class _NatsListenSubscription:
    def __init__(
        self,
        nats_sub: NatsSubscription,
        listener: QueuedListener,
        forget: Callable[[_NatsListenSubscription], None],
    ) -> None:
        self._nats_sub = nats_sub
        self._listener = listener
        self._forget = forget

    async def stop(self) -> None:
        self._forget(self)
        # The NATS callback only enqueues, so unsubscribing cannot cut a handler short.
        with contextlib.suppress(Exception):
            await self._nats_sub.unsubscribe()
        await self._listener.stop()
