"""An in-process messaging pipeline for tests: SendMessage, the outbox relay and delivery
workers on a real database and a real bus, with the channel adapter faked in memory (the
adapter *process* fake lives in adapters/fake; these tests are about the core)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from google.protobuf import duration_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

import linktor.server.events.app.serializers  # noqa: F401 - registers event serializers
from linktor.adapter.v1 import adapter_pb2
from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.events.app.sequencer import EventSequencer
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.cache.memory import MemoryRateLimiter
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.relay import OutboxRelay
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.channels import ChannelInfo
from linktor.server.messaging.app.delivery import DeliveryWorker
from linktor.server.messaging.app.quota import MessageQuota
from linktor.server.messaging.app.send import SendMessage
from linktor.server.messaging.domain.retry import RetryPolicy
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.errors import Unavailable
from linktor.v1 import channel_pb2

ALL_KINDS = [k for k in channel_pb2.ContentKind.values() if k]


def capabilities(
    kinds: list[Any] | None = None, reply_window_hours: int = 0, **limits: Any
) -> channel_pb2.ChannelCapabilities:
    caps = channel_pb2.ChannelCapabilities(content_kinds=kinds or ALL_KINDS, **limits)
    if reply_window_hours:
        caps.reply_window.CopyFrom(duration_pb2.Duration(seconds=reply_window_hours * 3600))
    return caps


class FakeChannels:
    """ChannelLookup over a dict."""

    def __init__(self) -> None:
        self.channels: dict[tuple[str, str], ChannelInfo] = {}

    def add(
        self,
        tenant_id: str,
        channel_id: str,
        channel_type: ChannelType = ChannelType.WHATSAPP,
        caps: channel_pb2.ChannelCapabilities | None = None,
        rate: float = 10_000,
    ) -> ChannelInfo:
        info = ChannelInfo(
            id=channel_id,
            tenant_id=tenant_id,
            type=channel_type,
            enabled=True,
            capabilities=caps or capabilities(),
            rate_per_second=rate,
            burst=max(1, int(rate)),
            adapter_address="",
            config=adapter_pb2.ChannelConfig(channel=f"tenants/{tenant_id}/channels/{channel_id}"),
        )
        self.channels[(tenant_id, channel_id)] = info
        return info

    async def get(self, tenant_id: str, channel_id: str) -> ChannelInfo | None:
        return self.channels.get((tenant_id, channel_id))

    async def by_webhook_token(self, token: str) -> ChannelInfo | None:
        return next((c for c in self.channels.values() if c.id == token), None)


@dataclass
class FakeProvider:
    """What the fake adapter does per Send: a script of responses, then success."""

    sent: list[adapter_pb2.SendRequest] = field(default_factory=list)
    script: list[adapter_pb2.SendResponse | Exception] = field(default_factory=list)
    latency: Callable[[], float] = lambda: 0.0
    status: Any = 3  # MESSAGE_STATUS_SENT
    available: bool = True


class FakeStub:
    def __init__(self, provider: FakeProvider) -> None:
        self._p = provider

    async def Send(
        self,
        request: adapter_pb2.SendRequest,
        timeout: float | None = None,  # noqa: ASYNC109 - the gRPC stub signature
    ) -> adapter_pb2.SendResponse:
        await asyncio.sleep(self._p.latency())
        self._p.sent.append(request)
        if self._p.script:
            step = self._p.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        return adapter_pb2.SendResponse(
            provider_message_id=f"prov-{len(self._p.sent)}", status=self._p.status
        )


@dataclass
class FakeHandle:
    stub: FakeStub
    capabilities: adapter_pb2.GetCapabilitiesResponse


class FakeAdapters:
    """AdapterProvider whose adapter is a FakeStub."""

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider

    async def acquire(self, channel_type: int, *, address: str = "") -> Any:
        if not self.provider.available:
            raise Unavailable("adapter restarting")
        return FakeHandle(FakeStub(self.provider), adapter_pb2.GetCapabilitiesResponse())

    async def close(self) -> None:
        return None


def retryable(code: str = "RATE_LIMITED", retry_after: float = 0.0) -> adapter_pb2.SendResponse:
    response = adapter_pb2.SendResponse()
    response.error.error.code = code
    response.error.error.message = "try later"
    response.error.error.retryable = True
    response.error.error.provider_code = "130429"
    if retry_after:
        response.error.retry_after.FromTimedelta(timedelta(seconds=retry_after))
    return response


def permanent(code: str = "INVALID_RECIPIENT") -> adapter_pb2.SendResponse:
    response = adapter_pb2.SendResponse()
    response.error.error.code = code
    response.error.error.message = "no such number"
    response.error.error.provider_code = "131026"
    return response


@dataclass
class Pipeline:
    engine: AsyncEngine
    bus: EventBus
    channels: FakeChannels
    provider: FakeProvider
    send: SendMessage
    relay: OutboxRelay
    worker: DeliveryWorker

    def uow(self, tenant_id: str | None = None) -> SqlMessagingUnitOfWork:
        if tenant_id is None:
            return SqlMessagingUnitOfWork(self.engine, SystemClock(), privileged=True)
        return SqlMessagingUnitOfWork(self.engine, SystemClock(), tenant_id=tenant_id)

    async def wait_for(
        self,
        check: Callable[[], object],
        timeout: float = 60.0,  # noqa: ASYNC109 - a polling deadline, not a cancel scope
        interval: float = 0.05,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(interval)
        raise TimeoutError("condition not met in time")


async def _mark_published(engine: AsyncEngine, keys: list[tuple[str, int]]) -> None:
    async with SqlUnitOfWork(engine, privileged=True) as uow:
        await SqlEventLog(uow.connection).mark_published(keys)
        await uow.commit()


@contextlib.asynccontextmanager
async def running_pipeline(
    engine: AsyncEngine,
    bus: EventBus,
    *,
    policy: RetryPolicy | None = None,
    concurrency: int = 64,
    start_worker: bool = True,
    quota: MessageQuota | None = None,
) -> AsyncIterator[Pipeline]:
    clock = SystemClock()
    channels = FakeChannels()
    provider = FakeProvider()

    async def on_published(keys: list[tuple[str, int]]) -> None:
        await _mark_published(engine, keys)

    relay = OutboxRelay(engine, bus, EventSequencer(), on_published, idle_poll_seconds=0.05)

    def uow_for(tenant_id: str, *, read_only: bool = False) -> SqlMessagingUnitOfWork:
        return SqlMessagingUnitOfWork(engine, clock, tenant_id=tenant_id, read_only=read_only)

    send = SendMessage(uow_for, channels, clock, on_commit=relay.wake, quota=quota)
    worker = DeliveryWorker(
        lambda: SqlMessagingUnitOfWork(engine, clock, privileged=True),
        bus,
        channels,
        FakeAdapters(provider),
        MemoryRateLimiter(),
        clock,
        policy=policy or RetryPolicy(base_seconds=0.05, max_delay_seconds=0.2),
        concurrency=concurrency,
        on_commit=relay.wake,
    )
    stopping = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stopping))
    if start_worker:
        await worker.start()
    try:
        yield Pipeline(engine, bus, channels, provider, send, relay, worker)
    finally:
        stopping.set()
        await worker.stop()
        await relay_task
