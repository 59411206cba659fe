"""ReceiveInbound: store what contacts sent and apply what providers reported (DESIGN §4).

For each event of a webhook, in order, in one transaction per group of webhooks of a tenant:
- an inbound message is stored once (unique on channel + provider message id, so provider
  redeliveries are dropped), attached to the contact owning the sender's address (created on
  first contact) and to the conversation of that contact on the channel (created, or reopened
  when resolved or snoozed); the conversation's activity, unread count and reply window move;
- a status report moves an outbound message forward through the status machine (never back);
  a report for a message whose provider id is not known yet is handed back to be retried;
- typing and read receipts become ephemeral events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from linktor.adapter.v1 import adapter_pb2
from linktor.server.contacts.app.resolve import resolve_contact
from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.conversations.domain.events import ConversationCreated, ConversationUpdated
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.channels import ChannelInfo
from linktor.server.messaging.app.ports import StatusReport
from linktor.server.messaging.domain.content_kind import plain_text
from linktor.server.messaging.domain.errors import DeliveryError
from linktor.server.messaging.domain.events import MessageCreated, MessageUpdated
from linktor.server.messaging.domain.message import Message, Sender
from linktor.server.messaging.domain.status import Direction, MessageStatus, SenderType
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import AlreadyExists
from linktor.server.shared.ids import new_id
from linktor.v1 import event_pb2, message_pb2

_STATUS = {
    message_pb2.MESSAGE_STATUS_SENT: MessageStatus.SENT,
    message_pb2.MESSAGE_STATUS_DELIVERED: MessageStatus.DELIVERED,
    message_pb2.MESSAGE_STATUS_READ: MessageStatus.READ,
    message_pb2.MESSAGE_STATUS_FAILED: MessageStatus.FAILED,
}

# Publishes an ephemeral event (typing, read receipt) to live streams.
EphemeralPublisher = Callable[[str, event_pb2.Event], Awaitable[None]]


@dataclass
class ReceiveResult:
    stored: int = 0
    duplicates: int = 0
    statuses_applied: int = 0
    # Status reports for provider message ids not known yet: to retry later.
    unmatched: list[adapter_pb2.InboundEvent] = field(default_factory=list)


def _time(ts: object, fallback: datetime) -> datetime:
    seconds = getattr(ts, "seconds", 0)
    nanos = getattr(ts, "nanos", 0)
    if not seconds and not nanos:
        return fallback
    return datetime.fromtimestamp(seconds + nanos / 1e9, UTC)


class ReceiveInbound:
    def __init__(
        self,
        uow: Callable[[str], SqlMessagingUnitOfWork],
        clock: Clock,
        ephemeral: EphemeralPublisher,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ephemeral = ephemeral
        # Wakes the outbox relay: the events just stored go out now, not at its next poll.
        self._on_commit = on_commit

    async def __call__(
        self, channel: ChannelInfo, events: Sequence[adapter_pb2.InboundEvent]
    ) -> ReceiveResult:
        (result,) = await self.many([(channel, events)])
        return result

    async def many(
        self, work: Sequence[tuple[ChannelInfo, Sequence[adapter_pb2.InboundEvent]]]
    ) -> list[ReceiveResult]:
        """Several webhooks' events of ONE tenant in one transaction, in order; one result
        per item. Status reports are applied together at the end (one statement per wave,
        see SqlMessageRepository.apply_statuses): they touch only outbound messages, which
        the other events neither create nor change, except read receipts, which are
        applied where they stand."""
        tenants = {channel.tenant_id for channel, _ in work}
        if len(tenants) != 1:
            raise ValueError("ReceiveInbound.many takes the work of one tenant")
        (tenant_id,) = tenants
        results = [ReceiveResult() for _ in work]
        ephemeral: list[event_pb2.Event] = []
        statuses: list[tuple[int, adapter_pb2.InboundEvent, StatusReport]] = []
        async with self._uow(tenant_id) as uow:
            for index, (channel, events) in enumerate(work):
                result = results[index]
                for event in events:
                    kind = event.WhichOneof("kind")
                    if kind == "message":
                        if await self._message(uow, channel, event.message):
                            result.stored += 1
                        else:
                            result.duplicates += 1
                    elif kind == "status":
                        report = self._report(channel, event.status)
                        if report is not None:
                            statuses.append((index, event, report))
                    elif kind == "typing":
                        ephemeral.append(await self._typing(uow, channel, event.typing))
                    elif kind == "read":
                        read = await self._read(uow, channel, event.read)
                        if read is not None:
                            ephemeral.append(read)
            await self._statuses(uow, statuses, results)
            await uow.commit()
        if self._on_commit is not None:
            self._on_commit()
        for item in ephemeral:
            if item.ByteSize():
                await self._ephemeral(tenant_id, item)
        return results

    async def _conversation(
        self, uow: SqlMessagingUnitOfWork, channel: ChannelInfo, address: str, display_name: str
    ) -> tuple[Conversation, str]:
        now = self._clock.now()
        contact = await resolve_contact(
            uow.contacts,
            channel.tenant_id,
            channel.type,
            address,
            display_name,
            channel.id,
            now,
            events=uow.events,
        )
        conversation = await uow.conversations.find(
            channel.tenant_id, channel.id, contact.id, for_update=True
        )
        if conversation is None:
            conversation = Conversation.start(
                new_id(),
                channel.tenant_id,
                channel.id,
                channel.type,
                contact.id,
                now,
                contact_display_name=contact.display_name,
            )
            try:
                await uow.conversations.add(conversation)
                await uow.events.record(ConversationCreated(conversation))
            except AlreadyExists:
                found = await uow.conversations.find(
                    channel.tenant_id, channel.id, contact.id, for_update=True
                )
                if found is None:
                    raise
                conversation = found
        identity = contact.identity(channel.type)
        return conversation, identity.address if identity else address

    async def _message(
        self, uow: SqlMessagingUnitOfWork, channel: ChannelInfo, inbound: adapter_pb2.InboundMessage
    ) -> bool:
        """Store one inbound message; False when it was a provider redelivery."""
        if inbound.provider_message_id and await uow.messages.by_provider_id(
            channel.id, inbound.provider_message_id
        ):
            return False
        now = self._clock.now()
        conversation, address = await self._conversation(
            uow, channel, inbound.sender, inbound.sender_display_name
        )
        text = plain_text(inbound.content)
        window = channel.capabilities.reply_window
        reply_window = timedelta(seconds=window.seconds) if window.seconds else None
        conversation, seq = conversation.record_inbound(text, now, reply_window)
        conversation = await uow.conversations.update(
            conversation, expected_version=conversation.version
        )
        content = inbound.content
        reply_to_id: str | None = None
        if inbound.reply_to_provider_message_id:
            quoted = await uow.messages.by_provider_id(
                channel.id, inbound.reply_to_provider_message_id
            )
            reply_to_id = (
                quoted.id if quoted and quoted.conversation_id == conversation.id else None
            )
        if content.WhichOneof("kind") == "reaction" and content.reaction.provider_message_id:
            target = await uow.messages.by_provider_id(
                channel.id, content.reaction.provider_message_id
            )
            if target is not None:
                content.reaction.message = target.name
        message = Message(
            id=new_id(),
            tenant_id=channel.tenant_id,
            conversation_id=conversation.id,
            channel_id=channel.id,
            contact_id=conversation.contact_id,
            seq=seq,
            direction=Direction.INBOUND,
            sender=Sender(
                SenderType.CONTACT,
                f"tenants/{channel.tenant_id}/contacts/{conversation.contact_id}",
                inbound.sender_display_name or conversation.contact_display_name,
            ),
            content=content,
            status=MessageStatus.DELIVERED,
            create_time=now,
            update_time=now,
            address=address,
            body_text=text,
            reply_to_id=reply_to_id,
            provider_message_id=inbound.provider_message_id or None,
            metadata=dict(inbound.metadata),
            deliver_time=now,
            provider_time=_time(inbound.time, now),
        )
        await uow.messages.add(message)
        await uow.events.record(MessageCreated(message))
        await uow.events.record(ConversationUpdated(conversation))
        return True

    def _report(
        self, channel: ChannelInfo, report: adapter_pb2.StatusUpdate
    ) -> StatusReport | None:
        """The status change a provider reported; None when it names no known status."""
        status = _STATUS.get(report.status)
        if status is None or not report.provider_message_id:
            return None
        error = None
        if status is MessageStatus.FAILED and report.HasField("error"):
            e = report.error
            error = DeliveryError(
                e.code or "PROVIDER_ERROR",
                e.message,
                e.retryable,
                e.provider_code,
                e.provider_message,
            )
        at = _time(report.time, self._clock.now())
        return StatusReport(channel.id, report.provider_message_id, status, at, error)

    async def _statuses(
        self,
        uow: SqlMessagingUnitOfWork,
        statuses: Sequence[tuple[int, adapter_pb2.InboundEvent, StatusReport]],
        results: Sequence[ReceiveResult],
    ) -> None:
        """Apply status reports; a report for a message whose provider id is not known yet
        comes back in its result's ``unmatched`` (to retry)."""
        if not statuses:
            return
        changed = await uow.messages.apply_statuses([report for _, _, report in statuses])
        missed: dict[str, list[str]] = defaultdict(list)
        for (_, _, report), message in zip(statuses, changed, strict=True):
            if message is None:
                missed[report.channel_id].append(report.provider_message_id)
            else:
                await uow.events.record(MessageUpdated(message))
        known: set[tuple[str, str]] = set()
        for channel_id, ids in missed.items():
            found = await uow.messages.known_provider_ids(channel_id, ids)
            known.update((channel_id, pid) for pid in found)
        for (index, event, report), message in zip(statuses, changed, strict=True):
            if message is not None:
                results[index].statuses_applied += 1
            elif (report.channel_id, report.provider_message_id) not in known:
                results[index].unmatched.append(event)

    async def _typing(
        self, uow: SqlMessagingUnitOfWork, channel: ChannelInfo, typing: adapter_pb2.ContactTyping
    ) -> event_pb2.Event:
        conversation, _ = await self._conversation(uow, channel, typing.sender, "")
        event = event_pb2.Event(type="typing.started" if typing.typing else "typing.stopped")
        event.create_time.FromDatetime(self._clock.now())
        event.typing.conversation = conversation.name
        event.typing.actor = f"tenants/{channel.tenant_id}/contacts/{conversation.contact_id}"
        event.typing.typing = typing.typing
        return event

    async def _read(
        self, uow: SqlMessagingUnitOfWork, channel: ChannelInfo, read: adapter_pb2.ContactRead
    ) -> event_pb2.Event | None:
        if not read.provider_message_id:
            return None
        at = _time(read.time, self._clock.now())
        changed = await uow.messages.apply_status(
            channel.id, read.provider_message_id, MessageStatus.READ, at, None
        )
        target = changed or await uow.messages.by_provider_id(channel.id, read.provider_message_id)
        if target is None:
            return None
        if changed is not None:
            await uow.events.record(MessageUpdated(changed))
        event = event_pb2.Event(type="read_receipt.created")
        event.create_time.FromDatetime(self._clock.now())
        event.read_receipt.conversation = (
            f"tenants/{target.tenant_id}/conversations/{target.conversation_id}"
        )
        event.read_receipt.message = target.name
        return event
