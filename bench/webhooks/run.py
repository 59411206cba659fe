"""Outbound webhooks: deliveries per second to a local receiver, and the lag from an event to
its first delivery attempt.

Embedded (SQLite, in-process bus) and scaled (PostgreSQL + NATS JetStream from a private
`scripts/services.sh` set), the production path end to end: events are written
to the outbox as use cases do, the outbox relay numbers them into the event log and publishes
them, the fan-out stores a delivery per endpoint, the workers claim, sign (Standard Webhooks)
and POST them to a receiver on loopback that answers 200 at once.

- throughput: BURST events written at once to one endpoint; deliveries/s from the first write
  to the last request received;
- lag: LAG_EVENTS events written one at a time at LAG_RATE per second (a steady, unsaturated
  flow); per event, the time from its creation (its create_time) to the receiver getting its
  first attempt; p50 and p99.

A shared 2-core machine is noisy; the run reports the machine's load average next to the
figures.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from linktor.adapterkit.testing import serve_asgi
from linktor.server.config import load_settings
from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.events.app.sequencer import EventSequencer
from linktor.server.events.domain.types import events_subject
from linktor.server.identity.adapters.tables import tenants
from linktor.server.identity.domain.plan import Plan
from linktor.server.infra.bus.factory import create_bus
from linktor.server.infra.cache.memory import MemoryRateLimiter
from linktor.server.infra.db import migrate
from linktor.server.infra.db.engine import create_engine
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.relay import OutboxRelay
from linktor.server.infra.outbox.writer import OutboxRow, OutboxWriter
from linktor.server.infra.secrets.aes_gcm import AesGcmSecretBox
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.ids import new_id
from linktor.server.shared.principal import Principal, Role
from linktor.server.webhooks.app.inputs import EndpointDraft
from linktor.server.webhooks.domain.endpoint import RateLimit
from linktor.server.webhooks.module import build_webhooks
from linktor.v1 import event_pb2

BURST = int(os.environ.get("BENCH_WEBHOOKS_BURST", "1000"))
LAG_EVENTS = int(os.environ.get("BENCH_WEBHOOKS_LAG_EVENTS", "300"))
LAG_RATE = 50.0
WORKER_COUNTS = (64, 8)
ROOT = Path(__file__).resolve().parents[2]


class Plans:
    async def plan_of(self, tenant_id: str) -> Plan:
        return Plan("bench", "Bench", features={"webhooks": True})

    async def consume(self, *args: Any, **kwargs: Any) -> int:
        return 0


class Arrivals:
    """The receiver: when each webhook-id first arrived."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.requests = 0
        self.expected = 0
        self.all_arrived = asyncio.Event()

    def expect(self, count: int) -> None:
        self.first.clear()
        self.expected = count
        self.all_arrived.clear()

    async def handle(self, request: Request) -> Response:
        await request.body()
        self.requests += 1
        self.first.setdefault(request.headers["webhook-id"], time.time())
        if len(self.first) >= self.expected:
            self.all_arrived.set()
        return PlainTextResponse("ok")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def write_events(engine: Any, tenant: str, count: int) -> None:
    """``count`` events in one transaction, the way a use case records them."""
    now = datetime.now(UTC)
    async with SqlUnitOfWork(engine, tenant_id=tenant) as uow:
        outbox = OutboxWriter(uow.connection)
        for _ in range(count):
            event = event_pb2.Event(type="message.created")
            event.create_time.FromDatetime(now)
            outbox.add(
                OutboxRow(tenant, events_subject(tenant), new_id(), event.SerializeToString(), now)
            )
        await outbox.flush()
        await uow.commit()


async def bench(data_dir: Path, workers: int, services: Any = None) -> dict[str, Any]:
    """One run; ``services`` (lktest's PrivateServices): on PostgreSQL and NATS, else embedded."""
    # A tenant of its own per run: the runs share NATS, whose duplicate window would drop
    # events numbered like an earlier run's (message ids are tenant + sequence).
    tenant = f"bench{new_id()[-12:]}"
    scaled: dict[str, Any] = {}
    if services is not None:
        scaled = {
            "database_url": await services.create_database("lkwebhooks"),
            "nats_url": services.nats_url,
        }
    settings = load_settings(
        data_dir=data_dir, webhook_allow_hosts="127.0.0.1", webhook_workers=workers, **scaled
    )
    engine = create_engine(settings.effective_database_url)
    await migrate.upgrade(engine)
    async with SqlUnitOfWork(engine, privileged=True) as uow:
        now = datetime.now(UTC)
        await uow.connection.execute(
            insert(tenants).values(
                id=tenant,
                display_name="Bench",
                state="ACTIVE",
                plan="free",
                create_time=now,
                update_time=now,
            )
        )
        await uow.commit()
    bus = create_bus(settings.nats_url)
    await bus.start()
    clock = SystemClock()

    async def mark_published(keys: list[tuple[str, int]]) -> None:
        async with SqlUnitOfWork(engine, privileged=True) as uow:
            await SqlEventLog(uow.connection).mark_published(keys)
            await uow.commit()

    relay = OutboxRelay(engine, bus, EventSequencer(), mark_published, idle_poll_seconds=0.05)
    webhooks = build_webhooks(
        settings,
        engine,
        bus,
        MemoryRateLimiter(),
        Plans(),
        clock,
        box=AesGcmSecretBox([os.urandom(32)]),
        on_commit=relay.wake,
    )
    arrivals = Arrivals()
    app = Starlette(routes=[Route("/hook", arrivals.handle, methods=["POST"])])
    stopping = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stopping))
    await webhooks.fanout.start()
    await webhooks.worker.start()
    try:
        async with serve_asgi(app) as base_url:
            await webhooks.endpoints.create(
                Principal(tenant_id=tenant, role=Role.ADMIN),
                tenant,
                EndpointDraft(url=f"{base_url}/hook", rate_limit=RateLimit(10_000, 10_000)),
            )
            # Throughput: a burst.
            arrivals.expect(BURST)
            started = time.time()
            await write_events(engine, tenant, BURST)
            relay.wake()
            await arrivals.all_arrived.wait()
            burst_seconds = time.time() - started
            # Lag: a steady flow, one event at a time.
            arrivals.expect(LAG_EVENTS)
            created: dict[int, float] = {}
            first_sequence = BURST + 1
            for i in range(LAG_EVENTS):
                created[first_sequence + i] = time.time()
                await write_events(engine, tenant, 1)
                relay.wake()
                await asyncio.sleep(1 / LAG_RATE)
            await arrivals.all_arrived.wait()
            lags = [
                (arrivals.first[f"evt_{tenant}_{sequence}"] - at) * 1000
                for sequence, at in created.items()
            ]
    finally:
        stopping.set()
        await webhooks.worker.stop()
        await webhooks.fanout.stop()
        await relay_task
        await webhooks.close()
        await bus.close()
        await engine.dispose()
    return {
        "burst_events": BURST,
        "burst_seconds": round(burst_seconds, 3),
        "deliveries_per_second": round(BURST / burst_seconds, 1),
        "lag_events": LAG_EVENTS,
        "lag_rate_per_second": LAG_RATE,
        "lag_ms_p50": round(statistics.median(lags), 1),
        "lag_ms_p99": round(percentile(lags, 0.99), 1),
        "lag_ms_max": round(max(lags), 1),
        "receiver_requests": arrivals.requests,
    }


def main() -> dict[str, Any]:
    """The default worker count (LINKTOR_WEBHOOK_WORKERS=64) and a small one, on each backend:
    on SQLite every claim and record is a write transaction, and fewer concurrent writers wait
    less."""
    # The scaled runs use the test-suite's private service set (lktest).
    sys.path.insert(0, str(ROOT / "server" / "tests"))
    from lktest.private_services import private_services

    runs: dict[str, Any] = {}
    with private_services("lk-bench-wh-") as services:
        for backend, svc in (("embedded", None), ("scaled", services)):
            for workers in WORKER_COUNTS:
                with tempfile.TemporaryDirectory() as tmp:
                    runs[f"{backend}_workers_{workers}"] = asyncio.run(
                        bench(Path(tmp), workers, svc)
                    )
    return {
        "benchmark": "webhooks",
        "backends": {
            "embedded": "SQLite, in-process bus",
            "scaled": "PostgreSQL + NATS JetStream (private services.sh set)",
        },
        "metrics": runs[f"scaled_workers_{WORKER_COUNTS[0]}"],
        "runs": runs,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
