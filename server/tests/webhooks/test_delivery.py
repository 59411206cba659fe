"""Delivery on both backends: every event of a subscribed type reaches the endpoint signed per
Standard Webhooks (verified by the official library), persisted before any attempt, once per
event even when the bus hands an event over twice; retries, Retry-After, 410, redirects,
rotation, restarts, several workers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lktest.seed import seed_tenant
from lktest.services import unique_id
from lktest.webhooks import (
    EventSource,
    Receiver,
    build_test_webhooks,
    eventually,
    running_receiver,
    running_webhooks,
    webhook_settings,
    webhook_world,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import PlainTextResponse, RedirectResponse

from linktor.server.events.domain.types import events_subject
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.shared.clock import FakeClock, SystemClock
from linktor.server.shared.principal import Principal, Role
from linktor.server.webhooks.adapters.tables import webhook_deliveries
from linktor.server.webhooks.app.inputs import EndpointDraft, EndpointPatch
from linktor.server.webhooks.domain.delivery import DeliveryState
from linktor.server.webhooks.domain.endpoint import RateLimit
from linktor.server.webhooks.domain.schedule import DEFAULT_DELAYS
from linktor.server.webhooks.module import WebhookServices
from linktor.v1 import event_pb2

pytestmark = pytest.mark.integration


def admin(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id="u1", role=Role.ADMIN)


async def create_endpoint(
    services: WebhookServices, tenant_id: str, receiver: Receiver, **draft: object
) -> str:
    made = await services.endpoints.create(
        admin(tenant_id),
        tenant_id,
        EndpointDraft(url=receiver.url, **draft),  # type: ignore[arg-type]
    )
    receiver.secrets.append(made.secret)
    return made.endpoint.id


async def delivery_states(engine: AsyncEngine, endpoint_id: str) -> dict[str, int]:
    async with SqlUnitOfWork(engine, privileged=True) as uow:
        rows = await uow.connection.execute(
            select(webhook_deliveries.c.state, func.count())
            .where(webhook_deliveries.c.endpoint_id == endpoint_id)
            .group_by(webhook_deliveries.c.state)
        )
        return {row[0]: row[1] for row in rows}


async def test_events_reach_the_endpoint_signed_with_the_standard_headers(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = SystemClock()
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    async with running_receiver(Receiver()) as receiver, running_webhooks(services):
        await create_endpoint(
            services,
            tenant_id,
            receiver,
            event_types=("contact.*",),
            headers={"Authorization": "Bearer customer-token"},
        )
        await events.emit(tenant_id, "contact.created", 3)
        await events.emit(tenant_id, "message.created")  # not subscribed
        await events.emit(tenant_id, "contact.deleted")
        await eventually(lambda: len(receiver.received) >= 4)
    assert receiver.unverified == []
    assert len(receiver.received) == 4
    assert len(set(receiver.ids)) == 4
    first = receiver.received[0]
    assert first.webhook_id == f"evt_{tenant_id}_1"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"].startswith("Linktor-Webhooks/")
    assert first.headers["authorization"] == "Bearer customer-token"
    assert first.signature.startswith("v1,")
    assert abs(int(first.timestamp) - datetime.now(UTC).timestamp()) < 60
    assert first.body["type"] == "contact.created"
    assert first.body["timestamp"].endswith("Z")
    data = first.body["data"]
    assert data["type"] == "contact.created"
    assert data["sequence"] == "1"  # proto3 JSON: int64 as a string
    assert data["name"] == f"tenants/{tenant_id}/events/1"
    assert data["deleted"]["name"].startswith(f"tenants/{tenant_id}/contacts/")
    types = [r.body["type"] for r in receiver.received]
    assert sorted(types) == ["contact.created"] * 3 + ["contact.deleted"]


async def test_a_redelivered_bus_message_makes_no_second_delivery(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = SystemClock()
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    async with running_receiver(Receiver()) as receiver, running_webhooks(services):
        endpoint_id = await create_endpoint(services, tenant_id, receiver)
        await events.emit(tenant_id, "contact.created")
        await eventually(lambda: len(receiver.received) == 1)
        # The same stored event published again under another msg id (a sweeper republish
        # after the duplicate window): the fan-out must not queue it twice.
        event = event_pb2.Event(type="contact.created", sequence=1)
        event.create_time.FromDatetime(clock.now())
        await bus.publish(events_subject(tenant_id), event.SerializeToString(), msg_id=f"x{1}")
        await events.emit(tenant_id, "contact.updated")
        await eventually(lambda: len(receiver.received) == 2)

        async def both_done() -> bool:
            return await delivery_states(engine, endpoint_id) == {"SUCCEEDED": 2}

        await eventually(both_done)
    assert receiver.ids == [f"evt_{tenant_id}_1", f"evt_{tenant_id}_2"]


async def test_failures_follow_the_schedule_and_retry_after_is_honoured(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC))
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    answers = [503, 429]

    def respond(_r: object) -> PlainTextResponse:
        if not answers:
            return PlainTextResponse("ok")
        status = answers.pop(0)
        # 503 asks for less than the schedule (5 s): the schedule wins; 429 asks for more
        # than the next delay (5 min): Retry-After wins.
        wait = "1" if status == 503 else "3600"
        return PlainTextResponse("busy", status_code=status, headers={"Retry-After": wait})

    async with running_receiver(Receiver(respond=respond)) as receiver, running_webhooks(services):
        endpoint_id = await create_endpoint(services, tenant_id, receiver)
        await events.emit(tenant_id, "contact.created")
        await eventually(lambda: len(receiver.received) == 1)
        delivery = await only_delivery(services, tenant_id, endpoint_id)
        await eventually(lambda: attempts_of(services, tenant_id, endpoint_id, delivery, 1))
        record = await services.deliveries.get(admin(tenant_id), tenant_id, endpoint_id, delivery)
        assert record.delivery.state is DeliveryState.PENDING
        wait = record.delivery.next_attempt_time - record.attempts[0].start_time  # type: ignore[operator]
        assert DEFAULT_DELAYS[0] * 0.9 <= wait <= DEFAULT_DELAYS[0] * 1.1 + timedelta(seconds=1)
        assert record.attempts[0].http_status == 503
        assert record.attempts[0].response_body == "busy"
        clock.advance(timedelta(seconds=4))
        services.worker.wake()
        await _quiet()
        assert len(receiver.received) == 1  # not due yet
        clock.advance(timedelta(seconds=2))
        services.worker.wake()
        await eventually(lambda: len(receiver.received) == 2)
        await eventually(lambda: attempts_of(services, tenant_id, endpoint_id, delivery, 2))
        record = await services.deliveries.get(admin(tenant_id), tenant_id, endpoint_id, delivery)
        wait = record.delivery.next_attempt_time - record.attempts[1].start_time  # type: ignore[operator]
        assert wait >= timedelta(seconds=3600)  # Retry-After beat the 5 min of the schedule
        clock.advance(timedelta(minutes=30))
        services.worker.wake()
        await _quiet()
        assert len(receiver.received) == 2
        clock.advance(timedelta(minutes=31))
        services.worker.wake()
        await eventually(lambda: len(receiver.received) == 3)
        await eventually(lambda: attempts_of(services, tenant_id, endpoint_id, delivery, 3))
        record = await services.deliveries.get(admin(tenant_id), tenant_id, endpoint_id, delivery)
        assert record.delivery.state is DeliveryState.SUCCEEDED
        assert [a.http_status for a in record.attempts] == [503, 429, 200]
    assert len(set(receiver.ids)) == 1  # one webhook-id across the attempts


async def only_delivery(services: WebhookServices, tenant_id: str, endpoint_id: str) -> str:
    found, _ = await services.deliveries.list(
        admin(tenant_id), tenant_id, endpoint_id, size=10, token="", state=None, event_type=""
    )
    assert len(found) == 1
    return found[0].id


async def attempts_of(
    services: WebhookServices, tenant_id: str, endpoint_id: str, delivery_id: str, count: int
) -> bool:
    record = await services.deliveries.get(admin(tenant_id), tenant_id, endpoint_id, delivery_id)
    return len(record.attempts) >= count


async def _quiet(seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)


async def test_410_gone_disables_the_endpoint_and_an_event_says_so(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = SystemClock()
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    gone = Receiver(respond=lambda _r: PlainTextResponse("gone", status_code=410))
    async with (
        running_receiver(gone),
        running_receiver(Receiver()) as watcher,
        running_webhooks(services),
    ):
        endpoint_id = await create_endpoint(services, tenant_id, gone, event_types=("contact.*",))
        await create_endpoint(services, tenant_id, watcher, event_types=("webhook_endpoint.*",))
        await events.emit(tenant_id, "contact.created")
        await eventually(lambda: len(gone.received) == 1)

        async def disabled() -> bool:
            endpoint = await services.endpoints.get(admin(tenant_id), tenant_id, endpoint_id)
            return endpoint.disabled

        await eventually(disabled)
        endpoint = await services.endpoints.get(admin(tenant_id), tenant_id, endpoint_id)
        assert endpoint.disabled_reason == "the endpoint answered 410 Gone"
        assert await delivery_states(engine, endpoint_id) == {"FAILED": 1}
        # The event is in the log; relay it and the other endpoint hears about it.
        await events.emit(tenant_id, "contact.updated")
        await eventually(lambda: len(watcher.received) == 1)
        note = watcher.received[0].body
        assert note["type"] == "webhook_endpoint.disabled"
        assert note["data"]["webhookEndpoint"]["name"].endswith(endpoint_id)
        assert note["data"]["webhookEndpoint"]["disabledReason"] == endpoint.disabled_reason
        assert "secret" not in note["data"]["webhookEndpoint"]
        assert len(gone.received) == 1  # nothing more to a disabled endpoint


async def test_redirects_are_failures_and_never_followed(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = SystemClock()
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    to_metadata = Receiver(
        respond=lambda _r: RedirectResponse("http://169.254.169.254/latest/meta-data", 307)
    )
    async with running_receiver(to_metadata) as receiver, running_webhooks(services):
        endpoint_id = await create_endpoint(services, tenant_id, receiver)
        await events.emit(tenant_id, "contact.created")
        await eventually(lambda: len(receiver.received) == 1)
        delivery = await only_delivery(services, tenant_id, endpoint_id)
        await eventually(lambda: attempts_of(services, tenant_id, endpoint_id, delivery, 1))
        record = await services.deliveries.get(admin(tenant_id), tenant_id, endpoint_id, delivery)
    assert record.delivery.state is DeliveryState.PENDING  # a failure, retried later
    assert record.attempts[0].http_status == 307
    assert "not followed" in record.attempts[0].error
    assert "169.254.169.254" in record.attempts[0].error


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC))
    tenant_id, services, events = await webhook_world(engine, bus, tmp_path, clock)
    async with running_receiver(Receiver()) as receiver, running_webhooks(services):
        endpoint_id = await create_endpoint(services, tenant_id, receiver)
        old = receiver.secrets[0]
        rotated = await services.endpoints.rotate_secret(
            admin(tenant_id), tenant_id, endpoint_id, timedelta(hours=1)
        )
        new = rotated.secret
        assert new != old and new.startswith("whsec_")
        receiver.secrets.append(new)
        await events.emit(tenant_id, "contact.created")
        await eventually(lambda: len(receiver.received) == 1)
        during = receiver.received[0]
        assert sorted(during.verified_by) == sorted([old, new])
        assert len(during.signature.split(" ")) == 2
        clock.advance(timedelta(hours=1, seconds=1))
        await events.emit(tenant_id, "contact.updated")
        await eventually(lambda: len(receiver.received) == 2)
        after = receiver.received[1]
        assert after.verified_by == [new]
        assert len(after.signature.split(" ")) == 1


async def test_pending_deliveries_survive_a_restart(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    """Deliveries queued while no worker runs (the process died after the fan-out) are sent
    by the next process."""
    clock = SystemClock()
    tenant_id = await seed_tenant(engine)
    settings = webhook_settings(tmp_path)
    first = build_test_webhooks(settings, engine, bus, clock)
    events = EventSource(engine, bus, clock)
    async with running_receiver(Receiver()) as receiver:
        endpoint_id = await create_endpoint(first, tenant_id, receiver)
        await first.fanout.start()  # the fan-out only: no worker in this process
        await events.emit(tenant_id, "contact.created", 5)

        async def queued() -> bool:
            return (await delivery_states(engine, endpoint_id)).get("PENDING") == 5

        await eventually(queued)
        await first.fanout.stop()
        await first.close()
        assert receiver.received == []
        second = build_test_webhooks(settings, engine, bus, clock)
        async with running_webhooks(second):
            await eventually(lambda: len(receiver.received) == 5)
    assert sorted(receiver.ids) == sorted(f"evt_{tenant_id}_{n}" for n in range(1, 6))


async def test_several_workers_never_send_the_same_attempt(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    clock = SystemClock()
    tenant_id = await seed_tenant(engine)
    settings = webhook_settings(tmp_path)
    durable = unique_id("webhooks-")
    replicas = [
        build_test_webhooks(settings, engine, bus, clock, durable=durable) for _ in range(3)
    ]
    events = EventSource(engine, bus, clock)
    async with running_receiver(Receiver()) as receiver:
        endpoint_id = await create_endpoint(replicas[0], tenant_id, receiver)
        await replicas[0].endpoints.update(
            admin(tenant_id),
            tenant_id,
            endpoint_id,
            EndpointPatch(rate_limit=RateLimit(1000, 1000)),
        )
        async with (
            running_webhooks(replicas[0]),
            running_webhooks(replicas[1]),
            running_webhooks(replicas[2]),
        ):
            await events.emit(tenant_id, "contact.created", 60)
            await eventually(lambda: len(receiver.received) >= 60)
            await _quiet(0.5)
    assert len(receiver.received) == 60
    assert len(set(receiver.ids)) == 60
