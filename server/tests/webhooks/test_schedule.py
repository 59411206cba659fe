"""The published schedule on a virtual clock: a receiver down for a day loses nothing, and an
endpoint failing everything for 5 days is disabled (with an event), on both backends."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lktest.webhooks import (
    Receiver,
    eventually,
    running_receiver,
    running_webhooks,
    webhook_world,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import PlainTextResponse, Response

from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.shared.clock import FakeClock
from linktor.server.shared.principal import Principal, Role
from linktor.server.webhooks.adapters.tables import webhook_deliveries
from linktor.server.webhooks.app.inputs import EndpointDraft
from linktor.server.webhooks.module import WebhookServices
from linktor.v1 import event_pb2

pytestmark = pytest.mark.integration


def admin(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id="u1", role=Role.ADMIN)


def seen(receiver: Receiver, count: int) -> Callable[[], bool]:
    """A check: the receiver saw ``count`` different webhook-ids."""
    return lambda: len(set(receiver.ids)) >= count


def requests(receiver: Receiver, count: int) -> Callable[[], bool]:
    return lambda: len(receiver.received) >= count


async def settle(engine: AsyncEngine, services: WebhookServices, clock: FakeClock) -> None:
    """Let the workers send everything due at the virtual now."""
    d = webhook_deliveries.c

    async def nothing_due() -> bool:
        async with SqlUnitOfWork(engine, privileged=True) as uow:
            count = (
                await uow.connection.execute(
                    select(func.count())
                    .select_from(webhook_deliveries)
                    .where(
                        d.state == "PENDING",
                        (d.next_attempt_time <= clock.now()) | d.lease_until.is_not(None),
                    )
                )
            ).scalar_one()
        return count == 0

    services.worker.wake()
    await eventually(nothing_due, timeout=30)


async def test_a_receiver_down_for_a_day_gets_every_event_after_it_recovers(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC))
    start = clock.now()
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    down = True

    def respond(_r: object) -> Response:
        return PlainTextResponse("down", status_code=502) if down else PlainTextResponse("ok")

    async with running_receiver(Receiver(respond=respond)) as receiver, running_webhooks(services):
        made = await services.endpoints.create(
            admin(tenant_id), tenant_id, EndpointDraft(url=receiver.url)
        )
        receiver.secrets.append(made.secret)
        emitted = 0
        # A simulated day in 15-minute steps, an event every 2 hours, the receiver failing.
        step = timedelta(minutes=15)
        while clock.now() - start < timedelta(days=1):
            if (clock.now() - start) % timedelta(hours=2) == timedelta(0):
                await events.emit(tenant_id, "message.created")
                emitted += 1
                await eventually(seen(receiver, emitted))
            await settle(engine, services, clock)
            clock.advance(step)
        assert receiver.accepted_ids == []
        attempts_while_down = len(receiver.received)
        down = False
        # Recovery: the schedule brings everything within its longest gap (10 h).
        while clock.now() - start < timedelta(days=1, hours=11):
            await settle(engine, services, clock)
            clock.advance(step)
        await settle(engine, services, clock)
    expected = {f"evt_{tenant_id}_{n}" for n in range(1, emitted + 1)}
    accepted = Counter(receiver.accepted_ids)
    assert set(accepted) == expected  # none lost
    assert max(accepted.values()) == 1  # none accepted twice
    assert set(receiver.ids) == expected  # and nothing else was ever sent
    assert receiver.unverified == []
    assert attempts_while_down > emitted  # it was retried on the schedule meanwhile
    found, _ = await services.deliveries.list(
        admin(tenant_id), tenant_id, made.endpoint.id, size=100, token="", state=None, event_type=""
    )
    assert {d.state.value for d in found} == {"SUCCEEDED"}
    assert len(found) == emitted


async def test_an_endpoint_failing_everything_for_5_days_is_disabled(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC))
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    failing = Receiver(respond=lambda _r: PlainTextResponse("no", status_code=500))
    async with running_receiver(failing) as receiver, running_webhooks(services):
        made = await services.endpoints.create(
            admin(tenant_id),
            tenant_id,
            EndpointDraft(url=receiver.url, retry_schedule=(timedelta(hours=1),)),
        )
        receiver.secrets.append(made.secret)
        endpoint_id = made.endpoint.id
        for day in (0, 2, 4):
            await events.emit(tenant_id, "contact.updated")
            await eventually(requests(receiver, 2 * (day // 2) + 1))
            await settle(engine, services, clock)
            clock.advance(timedelta(hours=1, minutes=10))
            await settle(engine, services, clock)
            clock.advance(timedelta(days=2) - timedelta(hours=1, minutes=10))
            endpoint = await services.endpoints.get(admin(tenant_id), tenant_id, endpoint_id)
            assert not endpoint.disabled
        clock.advance(timedelta(days=1))  # day 7: failing since day 0
        await events.emit(tenant_id, "contact.updated")
        await eventually(lambda: len(receiver.received) == 7)

        async def disabled() -> bool:
            found = await services.endpoints.get(admin(tenant_id), tenant_id, endpoint_id)
            return found.disabled

        await eventually(disabled)
        endpoint = await services.endpoints.get(admin(tenant_id), tenant_id, endpoint_id)
        assert endpoint.disabled_reason == "every delivery failed for 5 days"
        await events.relay.relay_once()  # the event the worker recorded, into the log
    async with SqlUnitOfWork(engine, tenant_id=tenant_id) as uow:
        stored = await SqlEventLog(uow.connection).after(tenant_id, 0, 100)
    note = event_pb2.Event.FromString(stored[-1].payload)
    assert note.type == "webhook_endpoint.disabled"
    assert note.webhook_endpoint.name == endpoint.name
    assert note.webhook_endpoint.disabled_reason == endpoint.disabled_reason
    assert note.webhook_endpoint.secret == ""


async def test_a_success_resets_the_failure_clock(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC))
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    statuses = [500, 200]  # then 500 for ever

    def respond(_r: object) -> Response:
        return PlainTextResponse("", status_code=statuses.pop(0) if statuses else 500)

    async with running_receiver(Receiver(respond=respond)) as receiver, running_webhooks(services):
        made = await services.endpoints.create(
            admin(tenant_id),
            tenant_id,
            EndpointDraft(url=receiver.url, retry_schedule=(timedelta(minutes=1),)),
        )
        receiver.secrets.append(made.secret)
        await events.emit(tenant_id, "contact.updated")  # day 0: fails, then succeeds
        await eventually(lambda: len(receiver.received) >= 1)
        await settle(engine, services, clock)
        clock.advance(timedelta(minutes=2))
        await settle(engine, services, clock)
        assert [r.status for r in receiver.received] == [500, 200]
        clock.advance(timedelta(days=6))  # day 6: fails, failing since day 6 only
        await events.emit(tenant_id, "contact.updated")
        await eventually(lambda: len(receiver.received) >= 3)
        await settle(engine, services, clock)
        await asyncio.sleep(0.2)
        endpoint = await services.endpoints.get(admin(tenant_id), tenant_id, made.endpoint.id)
    assert not endpoint.disabled
