"""Outbound webhooks for tests: a receiver that verifies every request with the official
`standardwebhooks` library (not our code), and the webhooks context running on a real
database and bus with events produced the real way (outbox -> relay -> event log and bus).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from linktor.adapterkit.netguard import Resolver
from linktor.adapterkit.testing import serve_asgi
from linktor.server.config import Settings
from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.events.app.sequencer import EventSequencer
from linktor.server.events.domain.types import events_subject
from linktor.server.identity.domain.plan import Plan
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.cache.memory import MemoryRateLimiter
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.relay import OutboxRelay
from linktor.server.infra.outbox.writer import OutboxRow, OutboxWriter
from linktor.server.infra.secrets.aes_gcm import AesGcmSecretBox
from linktor.server.shared.clock import Clock
from linktor.server.shared.ids import new_id
from linktor.server.webhooks.module import WebhookServices, build_webhooks
from linktor.v1 import event_pb2
from lktest.identity import settings_for
from lktest.seed import seed_tenant
from lktest.services import unique_id

SECRETS_KEY = bytes(range(32))


@dataclass
class Received:
    """One request the receiver got, verified by standardwebhooks with one of its secrets."""

    webhook_id: str
    timestamp: str
    signature: str
    headers: dict[str, str]
    body: dict[str, Any]
    verified_by: list[str]
    # What the receiver answered.
    status: int = 0


Responder = Callable[[Received], Response]


def ok(_received: Received) -> Response:
    return PlainTextResponse("thanks")


@dataclass
class Receiver:
    """A customer's endpoint on loopback. ``secrets``: the signing secrets it knows; every
    request must verify with at least one (``verify_with`` says which did). ``respond``
    decides the answer (200 by default)."""

    secrets: list[str] = field(default_factory=list)
    respond: Responder = ok
    received: list[Received] = field(default_factory=list)
    unverified: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def verify_with(self, raw: bytes, headers: dict[str, str]) -> list[str]:
        good = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(raw, headers)
            except WebhookVerificationError:
                continue
            good.append(secret)
        return good

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        headers = dict(request.headers)
        verified = self.verify_with(raw, headers)
        if not verified:
            self.unverified.append(headers)
            return PlainTextResponse("bad signature", status_code=400)
        received = Received(
            webhook_id=headers["webhook-id"],
            timestamp=headers["webhook-timestamp"],
            signature=headers["webhook-signature"],
            headers=headers,
            body=json.loads(raw),
            verified_by=verified,
        )
        self.received.append(received)
        response = self.respond(received)
        received.status = response.status_code
        return response

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self._handle, methods=["POST"])])

    @property
    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    @property
    def accepted_ids(self) -> list[str]:
        """webhook-ids of the requests answered 2xx."""
        return [r.webhook_id for r in self.received if 200 <= r.status < 300]


@contextlib.asynccontextmanager
async def running_receiver(receiver: Receiver) -> AsyncIterator[Receiver]:
    async with serve_asgi(receiver.app()) as base_url:
        receiver.url = f"{base_url}/hook"
        yield receiver


class AllFeaturesPlans:
    """PlanLimits with every feature on (the identity context is tested elsewhere)."""

    def __init__(self, features: dict[str, bool] | None = None) -> None:
        self.plan = Plan("test", "Test", features=features or {"webhooks": True})

    async def plan_of(self, tenant_id: str) -> Plan:
        return self.plan

    async def consume(self, *args: Any, **kwargs: Any) -> int:
        return 0


def webhook_settings(data_dir: Path, allow: str = "127.0.0.1", **more: Any) -> Settings:
    return settings_for(data_dir, webhook_allow_hosts=allow, **more)


class EventSource:
    """Stores events the way use cases do (outbox rows in a transaction), then runs the outbox
    relay once: the events get their sequence in the log and reach the bus."""

    def __init__(self, engine: AsyncEngine, bus: EventBus, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

        async def mark_published(keys: list[tuple[str, int]]) -> None:
            async with SqlUnitOfWork(engine, privileged=True) as uow:
                await SqlEventLog(uow.connection).mark_published(keys)
                await uow.commit()

        self.relay = OutboxRelay(engine, bus, EventSequencer(), mark_published)

    async def emit(
        self, tenant_id: str, event_type: str, count: int = 1, *, at: datetime | None = None
    ) -> None:
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id) as uow:
            outbox = OutboxWriter(uow.connection)
            for i in range(count):
                event = event_pb2.Event(type=event_type)
                event.create_time.FromDatetime(at or self._clock.now())
                event.deleted.name = f"tenants/{tenant_id}/contacts/c{i}"
                outbox.add(
                    OutboxRow(
                        tenant_id=tenant_id,
                        subject=events_subject(tenant_id),
                        msg_id=new_id(),
                        payload=event.SerializeToString(),
                        create_time=self._clock.now(),
                    )
                )
            await outbox.flush()
            await uow.commit()
        while await self.relay.relay_once():
            pass


def build_test_webhooks(
    settings: Settings,
    engine: AsyncEngine,
    bus: EventBus,
    clock: Clock,
    *,
    plans: Any = None,
    resolver: Resolver | None = None,
    limiter: MemoryRateLimiter | None = None,
    durable: str = "",
) -> WebhookServices:
    """``durable``: the fan-out's consumer; unique by default, because other suites may share
    the NATS server (their fan-out must not take this test's events). Replicas of one
    installation pass the same name."""
    return build_webhooks(
        settings,
        engine,
        bus,
        limiter or MemoryRateLimiter(),
        plans or AllFeaturesPlans(),
        clock,
        box=AesGcmSecretBox([SECRETS_KEY]),
        resolver=resolver,
        poll_seconds=0.05,
        fanout_durable=durable or unique_id("webhooks-"),
    )


async def webhook_world(
    engine: AsyncEngine, bus: EventBus, data_dir: Path, clock: Clock
) -> tuple[str, WebhookServices, EventSource]:
    """A new tenant, the webhooks context (loopback allowed) and an event source for it."""
    tenant_id = await seed_tenant(engine)
    services = build_test_webhooks(webhook_settings(data_dir), engine, bus, clock)
    return tenant_id, services, EventSource(engine, bus, clock)


@contextlib.asynccontextmanager
async def running_webhooks(services: WebhookServices) -> AsyncIterator[WebhookServices]:
    """The fan-out and the workers running (housekeeping is called by tests directly)."""
    await services.fanout.start()
    await services.worker.start()
    try:
        yield services
    finally:
        await services.worker.stop()
        await services.fanout.stop()
        await services.close()


async def eventually(
    check: Callable[[], Any],
    timeout: float = 20.0,  # noqa: ASYNC109 - a polling deadline
    interval: float = 0.05,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)
