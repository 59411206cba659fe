"""Wiring of the messaging and events contexts: use cases, servicers, routes, workers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

import linktor.server.events.app.serializers  # noqa: F401 - registers event serializers
from linktor.server.api.grpc_server import Registration
from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.events.api.servicer import EventServicer
from linktor.server.events.app.hub import EventHub
from linktor.server.events.app.sequencer import EventSequencer
from linktor.server.events.app.stream import EventReader
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.relay import OutboxRelay
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.api.servicer import MessageServicer
from linktor.server.messaging.api.webhooks import InboundPersister, webhook_routes
from linktor.server.messaging.app.channels import ChannelLookup
from linktor.server.messaging.app.contact_signals import ContactSignals
from linktor.server.messaging.app.delivery import DeliveryWorker
from linktor.server.messaging.app.inbound_media import InboundMedia
from linktor.server.messaging.app.inbound_worker import InboundWorker
from linktor.server.messaging.app.media import MediaFiles, ProviderMediaIds
from linktor.server.messaging.app.outbound_media import OutboundMedia
from linktor.server.messaging.app.queries import MessageQueries
from linktor.server.messaging.app.quota import MessageQuota
from linktor.server.messaging.app.receive import ReceiveInbound
from linktor.server.messaging.app.send import SendMessage
from linktor.server.messaging.app.sweeper import Sweeper
from linktor.server.messaging.domain.retry import RetryPolicy
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.background import Background, Loop, Service
from linktor.server.shared.clock import Clock
from linktor.v1 import event_pb2_grpc, message_pb2_grpc


@dataclass
class MessagingServices:
    send: SendMessage
    queries: MessageQueries
    receive: ReceiveInbound
    relay: OutboxRelay
    delivery: DeliveryWorker
    inbound: InboundWorker
    sweeper: Sweeper
    hub: EventHub
    events: EventReader
    persister: InboundPersister
    channels: ChannelLookup
    adapters: AdapterProvider
    # Read receipts and typing towards contacts (the conversations context's hooks).
    signals: ContactSignals
    # Fetches inbound provider media into media storage (None without a media context).
    inbound_media: InboundMedia | None = None

    def registrations(self) -> list[Registration]:
        return [
            (
                message_pb2_grpc.add_MessageServiceServicer_to_server,
                MessageServicer(self.send, self.queries),
            ),
            (event_pb2_grpc.add_EventServiceServicer_to_server, EventServicer(self.events)),
        ]

    def http_routes(self) -> list[BaseRoute]:
        return list(webhook_routes(self.channels, self.adapters, self.persister))

    def background(self, *, workers: bool = True) -> list[Background]:
        """The live fan-out always runs (streams need it); relay, workers and sweeper run in
        processes that do work (``linktor serve`` by default, ``linktor worker``)."""
        tasks: list[Background] = [Service("event-hub", self.hub.start, self.hub.stop)]
        if workers:
            tasks += [
                Loop("outbox-relay", self.relay.run),
                Service("delivery-workers", self.delivery.start, self.delivery.stop),
                Service("inbound-workers", self.inbound.start, self.inbound.stop),
                Loop("sweeper", self.sweeper.run),
            ]
            if self.inbound_media is not None:
                media = self.inbound_media
                tasks.append(Service("inbound-media", media.start, media.stop))
        return tasks


def build_messaging(
    engine: AsyncEngine,
    bus: EventBus,
    clock: Clock,
    rate_limiter: RateLimiter,
    adapters: AdapterProvider,
    channels: ChannelLookup,
    *,
    retry_policy: RetryPolicy | None = None,
    delivery_concurrency: int = 256,
    media: MediaFiles | None = None,
    provider_media: ProviderMediaIds | None = None,
    media_max_bytes: int = 100 * 1024 * 1024,
    quota: MessageQuota | None = None,
    event_retention: timedelta = timedelta(days=7),
    housekeeping_interval_seconds: float = 600.0,
) -> MessagingServices:
    """``media`` and ``provider_media`` (the media context): attachments are checked at
    send, uploaded to adapters before delivery, and inbound media is fetched into storage."""

    def scoped(tenant_id: str, *, read_only: bool = False) -> SqlMessagingUnitOfWork:
        return SqlMessagingUnitOfWork(engine, clock, tenant_id=tenant_id, read_only=read_only)

    def privileged() -> SqlMessagingUnitOfWork:
        return SqlMessagingUnitOfWork(engine, clock, privileged=True)

    async def mark_published(keys: list[tuple[str, int]]) -> None:
        async with SqlUnitOfWork(engine, privileged=True) as uow:
            await SqlEventLog(uow.connection).mark_published(keys)
            await uow.commit()

    relay = OutboxRelay(engine, bus, EventSequencer(), mark_published)
    hub = EventHub(bus)
    wake: Callable[[], None] = relay.wake

    def reader_uow(tenant_id: str) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, tenant_id=tenant_id, read_only=True)

    receive = ReceiveInbound(scoped, clock, hub.publish_ephemeral, on_commit=wake)
    outbound_media = inbound_media = None
    if media is not None and provider_media is not None:
        outbound_media = OutboundMedia(media, provider_media, clock)
        inbound_media = InboundMedia(
            bus, channels, adapters, media, scoped, clock, max_bytes=media_max_bytes, on_commit=wake
        )
    return MessagingServices(
        send=SendMessage(scoped, channels, clock, on_commit=wake, attachments=media, quota=quota),
        queries=MessageQueries(lambda tenant_id: scoped(tenant_id, read_only=True)),
        receive=receive,
        relay=relay,
        delivery=DeliveryWorker(
            privileged,
            bus,
            channels,
            adapters,
            rate_limiter,
            clock,
            policy=retry_policy,
            concurrency=delivery_concurrency,
            on_commit=wake,
            media=outbound_media,
        ),
        inbound=InboundWorker(bus, channels, receive, media=inbound_media),
        sweeper=Sweeper(
            privileged,
            bus,
            clock,
            event_retention=event_retention,
            housekeeping_interval_seconds=housekeeping_interval_seconds,
        ),
        hub=hub,
        events=EventReader(reader_uow, hub),
        persister=InboundPersister(lambda: SqlUnitOfWork(engine, privileged=True), clock, wake),
        channels=channels,
        adapters=adapters,
        signals=ContactSignals(scoped, channels, adapters, clock, hub.publish_ephemeral, wake),
        inbound_media=inbound_media,
    )
