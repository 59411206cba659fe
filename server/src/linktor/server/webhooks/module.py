"""The webhooks context wired from settings: use cases, the servicer, the fan-out, the
delivery workers and the log's housekeeping. Built once by the composition root; tests build
it with a fake resolver, clock or sender."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

import linktor.server.events.app.serializers  # noqa: F401 - registers event serializers
from linktor.adapterkit.netguard import AddressPolicy, Resolver
from linktor.server.api.grpc_server import Registration
from linktor.server.config import Settings
from linktor.server.identity.app.plans import PlanLimits
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.infra.secrets.factory import create_secret_box
from linktor.server.infra.secrets.port import SecretBox
from linktor.server.shared.background import Background, Loop, Service
from linktor.server.shared.clock import Clock
from linktor.server.webhooks.adapters.destinations import NetworkDestinations
from linktor.server.webhooks.adapters.event_log import SqlEventLogReader
from linktor.server.webhooks.adapters.uow import SqlWebhookStore
from linktor.server.webhooks.api.servicer import WebhookServicer
from linktor.server.webhooks.app.deliveries import DeliveryLog
from linktor.server.webhooks.app.endpoints import EndpointAdmin
from linktor.server.webhooks.app.fanout import DURABLE as FANOUT_DURABLE
from linktor.server.webhooks.app.fanout import FanOut
from linktor.server.webhooks.app.housekeeping import DeliveryLogHousekeeping
from linktor.server.webhooks.app.ports import Sender
from linktor.server.webhooks.app.secrets import EndpointSecrets
from linktor.server.webhooks.app.worker import DeliveryWorker
from linktor.v1 import webhook_pb2_grpc

if TYPE_CHECKING:
    from linktor.server.webhooks.adapters.http_sender import HttpSender


@dataclass
class WebhookServices:
    endpoints: EndpointAdmin
    deliveries: DeliveryLog
    fanout: FanOut
    worker: DeliveryWorker
    housekeeping: DeliveryLogHousekeeping
    # The HTTP client (its connection pool is closed with the services).
    http: HttpSender

    def registrations(self) -> list[Registration]:
        return [
            (
                webhook_pb2_grpc.add_WebhookServiceServicer_to_server,
                WebhookServicer(self.endpoints, self.deliveries),
            )
        ]

    def background(self, *, workers: bool = True) -> list[Background]:
        """The fan-out, the delivery workers and housekeeping, in processes that do work
        (``linktor serve`` by default, ``linktor worker``)."""
        if not workers:
            return []
        return [
            Service("webhook-fanout", self.fanout.start, self.fanout.stop),
            Service("webhook-workers", self.worker.start, self.worker.stop),
            Loop("webhook-housekeeping", self.housekeeping.run),
        ]

    async def close(self) -> None:
        await self.http.close()


def build_webhooks(
    settings: Settings,
    engine: AsyncEngine,
    bus: EventBus,
    rate_limiter: RateLimiter,
    plans: PlanLimits,
    clock: Clock,
    *,
    box: SecretBox | None = None,
    resolver: Resolver | None = None,
    sender: Sender | None = None,
    poll_seconds: float = 1.0,
    on_commit: Callable[[], None] = lambda: None,
    fanout_durable: str = FANOUT_DURABLE,
) -> WebhookServices:
    """``on_commit``: the outbox relay's wake-up (events recorded by the workers)."""
    # Imported here: httpx takes a while to import, and only processes that build the
    # webhooks context need it.
    from linktor.server.webhooks.adapters.http_sender import HttpSender

    store = SqlWebhookStore(engine, clock)
    policy = AddressPolicy.parse(settings.webhook_allowlist, resolver=resolver)
    http = HttpSender(policy, max_connections=settings.webhook_workers)
    secrets = EndpointSecrets(box or create_secret_box(settings))
    worker = DeliveryWorker(
        store,
        sender or http,
        secrets,
        rate_limiter,
        clock,
        concurrency=settings.webhook_workers,
        poll_seconds=poll_seconds,
        on_commit=on_commit,
    )
    deliveries = DeliveryLog(store, SqlEventLogReader(engine), worker, clock, on_queued=worker.wake)

    def endpoint_changed(_endpoint: object) -> None:
        worker.wake()  # enabled again: its due deliveries go now

    return WebhookServices(
        endpoints=EndpointAdmin(
            store, secrets, NetworkDestinations(policy), plans, clock, on_change=endpoint_changed
        ),
        deliveries=deliveries,
        fanout=FanOut(bus, store, clock, on_queued=worker.wake, durable=fanout_durable),
        worker=worker,
        housekeeping=DeliveryLogHousekeeping(
            store, clock, retention=timedelta(days=settings.webhook_log_retention_days)
        ),
        http=http,
    )
