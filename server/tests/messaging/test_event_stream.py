"""The event log and resumable streams on both backends: per-tenant sequences without gaps,
live delivery, resume after a cut with nothing missed or repeated, filters, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from lktest.messaging import Pipeline, running_pipeline
from messaging.conftest import Seeded
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.events.adapters.tables import events
from linktor.server.events.app.hub import EventHub
from linktor.server.events.app.stream import EventReader, StreamFilter
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.messaging.app.send import SendCommand
from linktor.server.shared.errors import OutOfRange
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import content_pb2, event_pb2

pytestmark = pytest.mark.integration


async def send(p: Pipeline, seeded: Seeded, address: str, body: str) -> None:
    await p.send(
        Principal(tenant_id=seeded.tenant_id, user_id="u", role=Role.AGENT),
        SendCommand(
            tenant_id=seeded.tenant_id,
            content=content_pb2.MessageContent(text=content_pb2.TextContent(body=body)),
            channel_id=seeded.channel_id,
            address=address,
        ),
    )


def reader(engine: AsyncEngine, hub: EventHub) -> EventReader:
    return EventReader(lambda t: SqlUnitOfWork(engine, tenant_id=t), hub)


async def collect(stream: object, count: int, deadline: float = 20.0) -> list[event_pb2.Event]:
    got: list[event_pb2.Event] = []

    async def run() -> None:
        async for event in stream:  # type: ignore[attr-defined]
            got.append(event)
            if len(got) == count:
                return

    await asyncio.wait_for(run(), deadline)
    return got


async def test_live_then_resume_without_gaps_or_duplicates(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        hub = EventHub(bus)
        await hub.start()
        try:
            events_reader = reader(engine, hub)
            live = events_reader.stream(seeded.tenant_id, 0, StreamFilter(["message.created"]))
            first_task = asyncio.create_task(collect(live, 3))
            await asyncio.sleep(0.3)  # the stream is subscribed before anything happens
            for i in range(3):
                await send(p, seeded, "+15550300", f"m{i}")
            first = await first_task
            assert [e.message.content.text.body for e in first] == ["m0", "m1", "m2"]
            cut_at = first[1].sequence
            # More happens while the client is away.
            for i in range(3, 6):
                await send(p, seeded, "+15550300", f"m{i}")
            resumed = events_reader.stream(
                seeded.tenant_id, cut_at, StreamFilter(["message.created"])
            )
            rest = await collect(resumed, 4)
            assert [e.message.content.text.body for e in rest] == ["m2", "m3", "m4", "m5"]
            # Sequences are per tenant, increasing by one, with no gaps in the log.
            after_first = await collect(
                events_reader.stream(seeded.tenant_id, 1, StreamFilter([])), 1
            )
            assert after_first[0].sequence == 2
            async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
                stored = await SqlEventLog(uow.connection).after(seeded.tenant_id, 0, 1000)
            sequences = [e.sequence for e in stored]
            assert sequences == list(range(1, len(sequences) + 1))
        finally:
            await hub.stop()


async def test_conversation_filter_and_list_pages(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        hub = EventHub(bus)
        for i in range(4):
            await send(p, seeded, "+15550310", f"a{i}")
            await send(p, seeded, "+15550311", f"b{i}")
        events_reader = reader(engine, hub)

        async def all_created() -> bool:
            found, _ = await events_reader.page(seeded.tenant_id, 0, ["message.created"], 100, "")
            return len(found) == 8

        await p.wait_for(all_created)
        page1, token = await events_reader.page(seeded.tenant_id, 0, ["message.*"], 3, "")
        page2, token2 = await events_reader.page(seeded.tenant_id, 0, ["message.*"], 3, token)
        assert len(page1) == 3 and len(page2) == 3
        assert page1[-1].sequence < page2[0].sequence
        assert token and token2
        conversation = page1[0].message.name.split("/messages/")[0]
        filtered = events_reader.stream(
            seeded.tenant_id, 1, StreamFilter(["message.created"], conversation=conversation)
        )
        got = await collect(filtered, 4)
        assert all(e.message.name.startswith(conversation) for e in got)


async def test_resuming_from_a_purged_sequence_says_resync(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        for i in range(3):
            await send(p, seeded, "+15550320", f"x{i}")
        events_reader = reader(engine, EventHub(bus))

        async def created() -> bool:
            found, _ = await events_reader.page(seeded.tenant_id, 0, ["message.created"], 10, "")
            return len(found) == 3

        await p.wait_for(created)
        async with SqlUnitOfWork(engine, privileged=True) as uow:
            await uow.connection.execute(
                update(events)
                .where(events.c.tenant_id == seeded.tenant_id, events.c.sequence <= 3)
                .values(create_time=datetime(2020, 1, 1, tzinfo=UTC), published=True)
            )
            await SqlEventLog(uow.connection).purge(datetime.now(UTC) - timedelta(days=7))
            await uow.commit()
        with pytest.raises(OutOfRange) as info:
            async for _ in events_reader.stream(seeded.tenant_id, 1, StreamFilter([])):
                break
        assert info.value.reason == "EVENT_SEQUENCE_EXPIRED"
        # From the oldest kept sequence on, resuming works.
        first = await collect(events_reader.stream(seeded.tenant_id, 3, StreamFilter([])), 1)
        assert first[0].sequence == 4
