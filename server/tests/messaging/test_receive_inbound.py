"""ReceiveInbound on both backends: dedupe, contact and conversation resolution, reopen,
reply window, and provider status reports through the monotonic status machine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lktest.messaging import Pipeline, capabilities, running_pipeline
from messaging.conftest import Seeded
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.adapter.v1 import adapter_pb2
from linktor.server.conversations.domain.conversation import ConversationStatus
from linktor.server.infra.bus.port import EventBus
from linktor.server.messaging.app.receive import ReceiveInbound
from linktor.server.messaging.app.send import SendCommand
from linktor.server.messaging.domain.status import Direction, MessageStatus
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import content_pb2, event_pb2, message_pb2

pytestmark = pytest.mark.integration


def inbound(
    provider_id: str, sender: str, body: str, name: str = "Ana"
) -> adapter_pb2.InboundEvent:
    return adapter_pb2.InboundEvent(
        message=adapter_pb2.InboundMessage(
            provider_message_id=provider_id,
            sender=sender,
            sender_display_name=name,
            content=content_pb2.MessageContent(text=content_pb2.TextContent(body=body)),
        )
    )


def status(provider_id: str, value: int) -> adapter_pb2.InboundEvent:
    return adapter_pb2.InboundEvent(
        status=adapter_pb2.StatusUpdate(provider_message_id=provider_id, status=value)  # type: ignore[arg-type]
    )


class Ephemeral:
    def __init__(self) -> None:
        self.events: list[event_pb2.Event] = []

    async def __call__(self, tenant_id: str, event: event_pb2.Event) -> None:
        self.events.append(event)


def receiver(p: Pipeline, ephemeral: Ephemeral | None = None) -> ReceiveInbound:
    from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork

    clock = SystemClock()
    return ReceiveInbound(
        lambda t: SqlMessagingUnitOfWork(p.engine, clock, tenant_id=t),
        clock,
        ephemeral or Ephemeral(),
    )


async def test_inbound_creates_contact_and_conversation_once(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        channel = p.channels.add(
            seeded.tenant_id, seeded.channel_id, caps=capabilities(reply_window_hours=24)
        )
        receive = receiver(p)
        first = await receive(channel, [inbound("wamid.1", "+44 7700 900123", "hi there")])
        again = await receive(channel, [inbound("wamid.1", "+447700900123", "hi there")])
        assert (first.stored, again.stored, again.duplicates) == (1, 0, 1)
        await receive(channel, [inbound("wamid.2", "447700900123", "still there?")])
        async with p.uow(seeded.tenant_id) as uow:
            contact = await uow.contacts.find_by_identity(
                seeded.tenant_id, channel.type, "+447700900123"
            )
            assert contact is not None and contact.display_name == "Ana"
            conversation = await uow.conversations.find(seeded.tenant_id, channel.id, contact.id)
            assert conversation is not None
            stored = await uow.messages.in_conversation(
                seeded.tenant_id, conversation.id, limit=10, before_seq=None
            )
        assert conversation.unread_count == 2
        assert conversation.last_message_preview == "still there?"
        assert conversation.reply_window_expire_time is not None
        assert [m.content.text.body for m in stored] == ["still there?", "hi there"]
        assert all(
            m.direction is Direction.INBOUND and m.status is MessageStatus.DELIVERED for m in stored
        )
        assert [m.seq for m in stored] == [2, 1]


async def test_inbound_opens_the_reply_window_and_reopens_a_resolved_conversation(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        channel = p.channels.add(
            seeded.tenant_id, seeded.channel_id, caps=capabilities(reply_window_hours=24)
        )
        receive = receiver(p)
        await receive(channel, [inbound("w.10", "+15550200", "hello")])
        principal = Principal(tenant_id=seeded.tenant_id, user_id="u", role=Role.AGENT)
        reply = await p.send(
            principal,
            SendCommand(
                tenant_id=seeded.tenant_id,
                content=content_pb2.MessageContent(text=content_pb2.TextContent(body="hi!")),
                channel_id=channel.id,
                address="+15550200",
            ),
        )
        assert reply.status is MessageStatus.ACCEPTED
        async with p.uow(seeded.tenant_id) as uow:
            conversation = await uow.conversations.get(seeded.tenant_id, reply.conversation_id)
            assert conversation is not None
            resolved = conversation.resolve(datetime.now(UTC))
            await uow.conversations.update(resolved, expected_version=resolved.version)
            await uow.commit()
        await receive(channel, [inbound("w.11", "+15550200", "one more thing")])
        async with p.uow(seeded.tenant_id) as uow:
            conversation = await uow.conversations.get(seeded.tenant_id, reply.conversation_id)
        assert conversation is not None
        assert conversation.status is ConversationStatus.OPEN
        assert conversation.message_seq == 3


async def test_status_reports_move_forward_only_and_unknown_ids_come_back(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        channel = p.channels.add(seeded.tenant_id, seeded.channel_id)
        principal = Principal(tenant_id=seeded.tenant_id, user_id="u", role=Role.AGENT)
        sent = await p.send(
            principal,
            SendCommand(
                tenant_id=seeded.tenant_id,
                content=content_pb2.MessageContent(text=content_pb2.TextContent(body="x")),
                channel_id=channel.id,
                address="+15550201",
            ),
        )

        async def is_sent() -> bool:
            async with p.uow(seeded.tenant_id) as uow:
                m = await uow.messages.get(seeded.tenant_id, sent.id)
            return m is not None and m.status is MessageStatus.SENT

        await p.wait_for(is_sent)
        receive = receiver(p)
        result = await receive(
            channel,
            [
                status("prov-1", message_pb2.MESSAGE_STATUS_READ),
                status("prov-1", message_pb2.MESSAGE_STATUS_DELIVERED),
                status("unknown-id", message_pb2.MESSAGE_STATUS_DELIVERED),
            ],
        )
        assert result.statuses_applied == 1
        assert len(result.unmatched) == 1
        async with p.uow(seeded.tenant_id) as uow:
            m = await uow.messages.get(seeded.tenant_id, sent.id)
        assert m is not None and m.status is MessageStatus.READ
        assert m.read_time is not None


async def test_typing_becomes_an_ephemeral_event(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        channel = p.channels.add(seeded.tenant_id, seeded.channel_id)
        ephemeral = Ephemeral()
        await receiver(p, ephemeral)(
            channel,
            [
                adapter_pb2.InboundEvent(
                    typing=adapter_pb2.ContactTyping(sender="+15550202", typing=True)
                )
            ],
        )
        (event,) = ephemeral.events
        assert event.type == "typing.started"
        assert event.typing.conversation.startswith(f"tenants/{seeded.tenant_id}/conversations/")
