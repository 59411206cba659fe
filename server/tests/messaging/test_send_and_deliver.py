"""The outbound pipeline end to end in one process: SendMessage -> outbox -> relay -> bus ->
delivery worker -> adapter -> status, on SQLite + in-process bus and PostgreSQL + NATS."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from lktest.messaging import Pipeline, capabilities, permanent, retryable, running_pipeline
from messaging.conftest import Seeded
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.events.adapters.tables import events
from linktor.server.infra.bus.port import EventBus
from linktor.server.messaging.adapters.tables import messages
from linktor.server.messaging.app.send import SendCommand
from linktor.server.messaging.domain.status import MessageStatus
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import channel_pb2, content_pb2

pytestmark = pytest.mark.integration

K = channel_pb2.ContentKind


def text(body: str) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(text=content_pb2.TextContent(body=body))


def agent(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id="u1", role=Role.AGENT, email="a@x.io")


def to(seeded: Seeded, address: str, content: content_pb2.MessageContent, **kw: Any) -> SendCommand:
    return SendCommand(
        tenant_id=seeded.tenant_id,
        content=content,
        channel_id=seeded.channel_id,
        address=address,
        **kw,
    )


async def status_of(p: Pipeline, tenant_id: str, message_id: str) -> MessageStatus | None:
    async with p.uow(tenant_id) as uow:
        message = await uow.messages.get(tenant_id, message_id)
    return None if message is None else message.status


async def test_send_is_accepted_then_delivered_with_events(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        message = await p.send(agent(seeded.tenant_id), to(seeded, "+1 555 0100", text("hello")))
        assert message.status is MessageStatus.ACCEPTED
        assert message.address == "+15550100"
        assert message.seq == 1
        await p.wait_for(lambda: _is(p, seeded.tenant_id, message.id, MessageStatus.SENT))
        (request,) = p.provider.sent
        assert request.recipient == "+15550100"
        assert request.content.text.body == "hello"
        assert request.message_id == message.name
        async with p.uow(seeded.tenant_id) as uow:
            stored = await uow.messages.get(seeded.tenant_id, message.id)
            attempts = await uow.messages.attempts([message.id])
        assert stored is not None
        assert stored.provider_message_id == "prov-1"
        assert stored.attempt_count == 1
        assert [a.outcome for a in attempts[message.id]] == ["SUCCEEDED"]

        async def event_types() -> list[str]:
            async with p.uow(seeded.tenant_id) as uow:
                rows = await uow.connection.execute(
                    select(events.c.sequence, events.c.type)
                    .where(events.c.tenant_id == seeded.tenant_id)
                    .order_by(events.c.sequence)
                )
                return [f"{r.sequence}:{r.type}" for r in rows]

        await p.wait_for(lambda: _has_n(event_types, 4))
        assert await event_types() == [
            "1:contact.created",
            "2:conversation.created",
            "3:message.created",
            "4:message.updated",
        ]


async def _is(p: Pipeline, tenant_id: str, message_id: str, status: MessageStatus) -> bool:
    return await status_of(p, tenant_id, message_id) is status


async def _has_n(fetch: Callable[[], Awaitable[list[str]]], n: int) -> bool:
    return len(await fetch()) >= n


async def test_request_id_returns_the_first_message_and_refuses_another_body(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        first = await p.send(
            agent(seeded.tenant_id),
            to(seeded, "+15550101", text("once"), request_id="r-1", request_hash="h1"),
        )
        again = await p.send(
            agent(seeded.tenant_id),
            to(seeded, "+15550101", text("once"), request_id="r-1", request_hash="h1"),
        )
        assert again.id == first.id
        with pytest.raises(AlreadyExists) as info:
            await p.send(
                agent(seeded.tenant_id),
                to(seeded, "+15550101", text("twice"), request_id="r-1", request_hash="h2"),
            )
        assert info.value.reason == "REQUEST_ID_REUSED"


async def test_fifty_concurrent_sends_with_one_request_id_create_one_message(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        command = to(seeded, "+15550102", text("x"), request_id="same", request_hash="h")
        results = await asyncio.gather(
            *(p.send(agent(seeded.tenant_id), command) for _ in range(50))
        )
        assert len({m.id for m in results}) == 1
        async with p.uow(seeded.tenant_id) as uow:
            count = (
                await uow.connection.execute(
                    select(func.count()).where(messages.c.tenant_id == seeded.tenant_id)
                )
            ).scalar_one()
        assert count == 1


async def test_messages_of_one_conversation_reach_the_adapter_in_order(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, concurrency=16) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        rng = random.Random(7)
        p.provider.latency = lambda: rng.uniform(0, 0.01)
        sent = []
        for i in range(30):
            sent.append(
                await p.send(agent(seeded.tenant_id), to(seeded, "+15550103", text(f"m{i}")))
            )
        # Another conversation interleaved: proceeds in parallel, also in order.
        other = [
            await p.send(agent(seeded.tenant_id), to(seeded, "+15550104", text(f"o{i}")))
            for i in range(10)
        ]
        await p.wait_for(lambda: len(p.provider.sent) >= 40)
        first = [r.content.text.body for r in p.provider.sent if r.recipient == "+15550103"]
        second = [r.content.text.body for r in p.provider.sent if r.recipient == "+15550104"]
        assert first == [f"m{i}" for i in range(30)]
        assert second == [f"o{i}" for i in range(10)]
        assert [m.seq for m in sent] == list(range(1, 31))
        assert len(other) == 10


async def test_retryable_failures_are_retried_with_backoff_then_sent(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        p.provider.script = [retryable(retry_after=0.3), retryable()]
        message = await p.send(agent(seeded.tenant_id), to(seeded, "+15550105", text("retry me")))
        await p.wait_for(lambda: _is(p, seeded.tenant_id, message.id, MessageStatus.SENT))
        async with p.uow(seeded.tenant_id) as uow:
            attempts = (await uow.messages.attempts([message.id]))[message.id]
        assert [a.outcome for a in attempts] == ["RETRYING", "RETRYING", "SUCCEEDED"]
        assert attempts[0].retry_after_ms == 300
        # The provider's retry_after is a floor for the next attempt.
        gap = (attempts[1].start_time - attempts[0].start_time).total_seconds()
        assert gap >= 0.29
        assert attempts[0].error is not None and attempts[0].error.provider_code == "130429"


async def test_permanent_failure_marks_the_message_failed(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        p.provider.script = [permanent()]
        message = await p.send(agent(seeded.tenant_id), to(seeded, "+15550106", text("nope")))
        await p.wait_for(lambda: _is(p, seeded.tenant_id, message.id, MessageStatus.FAILED))
        async with p.uow(seeded.tenant_id) as uow:
            stored = await uow.messages.get(seeded.tenant_id, message.id)
        assert stored is not None and stored.error is not None
        assert stored.error.code == "INVALID_RECIPIENT"
        assert not stored.error.retryable
        assert stored.error.provider_code == "131026"


async def test_failures_give_up_after_the_policy_attempts(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    from linktor.server.messaging.domain.retry import RetryPolicy

    policy = RetryPolicy(base_seconds=0.02, max_delay_seconds=0.05, max_attempts=3)
    async with running_pipeline(engine, bus, policy=policy) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        p.provider.script = [retryable(), retryable(), retryable(), retryable()]
        message = await p.send(agent(seeded.tenant_id), to(seeded, "+15550107", text("x")))
        await p.wait_for(lambda: _is(p, seeded.tenant_id, message.id, MessageStatus.FAILED))
        async with p.uow(seeded.tenant_id) as uow:
            stored = await uow.messages.get(seeded.tenant_id, message.id)
        assert stored is not None and stored.error is not None
        assert stored.error.code == "MAX_ATTEMPTS_EXCEEDED"
        assert stored.attempt_count == 3
        assert len(p.provider.sent) == 3


async def test_unsupported_content_without_fallback_is_refused_naming_the_field(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(
            seeded.tenant_id,
            seeded.channel_id,
            ChannelType.SMS,
            capabilities([K.CONTENT_KIND_TEXT]),
        )
        template = content_pb2.MessageContent(
            template=content_pb2.TemplateContent(name="t", language="en")
        )
        with pytest.raises(InvalidArgument) as info:
            await p.send(agent(seeded.tenant_id), to(seeded, "+15550108", template))
        assert info.value.violations[0].field == "content.template"
        buttons = content_pb2.MessageContent(
            interactive=content_pb2.InteractiveContent(
                body="Pick one",
                buttons=content_pb2.ReplyButtons(
                    buttons=[
                        content_pb2.Button(id="a", title="Yes"),
                        content_pb2.Button(id="b", title="No"),
                    ]
                ),
            )
        )
        message = await p.send(agent(seeded.tenant_id), to(seeded, "+15550108", buttons))
        assert message.delivered_content is not None
        assert message.delivered_content.text.body == (
            "Pick one\n1. Yes\n2. No\nReply with the number of your choice."
        )


async def test_reply_window_refuses_free_form_but_allows_templates(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(
            seeded.tenant_id, seeded.channel_id, caps=capabilities(reply_window_hours=24)
        )
        with pytest.raises(FailedPrecondition) as info:
            await p.send(agent(seeded.tenant_id), to(seeded, "+15550109", text("hi")))
        assert info.value.reason == "REPLY_WINDOW_CLOSED"
        template = content_pb2.MessageContent(
            template=content_pb2.TemplateContent(name="welcome", language="en_US")
        )
        message = await p.send(agent(seeded.tenant_id), to(seeded, "+15550109", template))
        assert message.status is MessageStatus.ACCEPTED


async def test_status_reports_never_move_a_status_back(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        message = await p.send(agent(seeded.tenant_id), to(seeded, "+15550110", text("x")))
        await p.wait_for(lambda: _is(p, seeded.tenant_id, message.id, MessageStatus.SENT))
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        async with p.uow() as uow:
            read = await uow.messages.apply_status(
                seeded.channel_id, "prov-1", MessageStatus.READ, now, None
            )
            late_delivered = await uow.messages.apply_status(
                seeded.channel_id, "prov-1", MessageStatus.DELIVERED, now, None
            )
            late_failed = await uow.messages.apply_status(
                seeded.channel_id, "prov-1", MessageStatus.FAILED, now, None
            )
            await uow.commit()
        assert read is not None and read.status is MessageStatus.READ
        # READ implies DELIVERED: its time is filled although DELIVERED was never reported.
        assert read.deliver_time == now
        assert late_delivered is None
        assert late_failed is None
        assert await status_of(p, seeded.tenant_id, message.id) is MessageStatus.READ


async def test_a_burst_into_one_conversation_goes_out_in_order_without_waiting_for_redeliveries(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    """The worker that sends a message sends the conversation's next ones itself; without
    that, each would wait for its work item to be redelivered (seconds apart)."""
    async with running_pipeline(engine, bus, concurrency=8) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        sent = [
            await p.send(agent(seeded.tenant_id), to(seeded, "+15550120", text(f"b{i}")))
            for i in range(100)
        ]
        await p.wait_for(lambda: len(p.provider.sent) >= 100, timeout=60)
        assert [r.content.text.body for r in p.provider.sent] == [f"b{i}" for i in range(100)]
        assert len({r.message_id for r in p.provider.sent}) == 100
        assert sent[-1].seq == 100
