"""SendMessage: accept a message for delivery (DESIGN §4).

In ONE transaction: the conversation (found or created, locked), the message with status
ACCEPTED and the next sequence of its conversation, the delivery record in the outbox, the
events, and the idempotency key. After the commit the relay is woken up; delivery happens
asynchronously. A retry with the same request_id returns the first message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from linktor.server.contacts.app.resolve import resolve_contact
from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.conversations.domain.events import ConversationCreated
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.attachments import resolve_attachments
from linktor.server.messaging.app.channels import ChannelInfo, ChannelLookup
from linktor.server.messaging.app.delivery_queue import delivery_row
from linktor.server.messaging.app.media import MediaFiles
from linktor.server.messaging.app.quota import MessageQuota, NoQuota
from linktor.server.messaging.app.send_batch import IDEMPOTENCY_SCOPE, PreparedSend, SendBatches
from linktor.server.messaging.domain.content_kind import plain_text
from linktor.server.messaging.domain.degrade import adapt
from linktor.server.messaging.domain.events import MessageCreated
from linktor.server.messaging.domain.message import Message, Sender
from linktor.server.messaging.domain.status import Direction, MessageStatus, SenderType
from linktor.server.messaging.domain.template_check import check_template
from linktor.server.messaging.domain.validation import validate_content
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from linktor.server.shared.idempotency import (
    ConcurrentRequest,
    IdempotencyRecord,
    first_result,
)
from linktor.server.shared.ids import new_id
from linktor.server.shared.principal import Principal
from linktor.v1 import content_pb2


class ScopedUnitOfWork(Protocol):
    """Opens a unit of work scoped to a tenant (``read_only``: no write lock on SQLite)."""

    def __call__(self, tenant_id: str, *, read_only: bool = False) -> SqlMessagingUnitOfWork: ...


MAX_METADATA_KEYS = 32


@dataclass(frozen=True)
class SendCommand:
    tenant_id: str
    content: content_pb2.MessageContent
    conversation_id: str | None = None
    channel_id: str | None = None
    address: str = ""
    display_name: str = ""
    reply_to_id: str | None = None
    request_id: str = ""
    request_hash: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    validate_only: bool = False


def sender_of(principal: Principal) -> Sender:
    if principal.api_key_id:
        return Sender(SenderType.API_KEY, principal.actor)
    if principal.user_id:
        return Sender(SenderType.USER, principal.actor, principal.email)
    return Sender(SenderType.SYSTEM)


def _check_metadata(metadata: dict[str, str]) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidArgument.for_field("metadata", f"must have at most {MAX_METADATA_KEYS} keys")
    for key, value in metadata.items():
        if not key or len(key.encode()) > 64:
            raise InvalidArgument.for_field("metadata", f"key {key[:70]!r} must be 1 to 64 bytes")
        if len(value.encode()) > 512:
            raise InvalidArgument.for_field(f"metadata[{key}]", "must be at most 512 bytes")


def _batchable(command: SendCommand) -> bool:
    """Sends the group commit takes; the rest (rare) go alone: a dry run, and references to
    other messages, which need their own checks."""
    return not (
        command.validate_only
        or command.reply_to_id
        or command.content.WhichOneof("kind") == "reaction"
    )


class SendMessage:
    def __init__(
        self,
        uow: ScopedUnitOfWork,
        channels: ChannelLookup,
        clock: Clock,
        on_commit: Callable[[], None] = lambda: None,
        *,
        attachments: MediaFiles | None = None,
        quota: MessageQuota | None = None,
    ) -> None:
        self._uow = uow
        self._channels = channels
        self._clock = clock
        self._on_commit = on_commit
        self._attachments = attachments
        self._quota: MessageQuota = quota or NoQuota()
        self._batches = SendBatches(
            lambda tenant_id: uow(tenant_id),
            clock,
            self._quota,
            write_one=self._write_one,
            target_one=self._target_of,
            check_reply_window=self._check_reply_window,
            on_commit=on_commit,
        )

    async def __call__(self, principal: Principal, command: SendCommand) -> Message:
        if (command.conversation_id is None) == (command.channel_id is None):
            raise InvalidArgument.for_field(
                "conversation", "set exactly one of conversation and recipient"
            )
        _check_metadata(command.metadata)
        # A concurrent first call with the same request_id, or a concurrent first message to
        # the same new recipient, makes this attempt lose a race on a unique key; the retry
        # then finds the winner's rows.
        for _ in range(3):
            try:
                return await self._send_once(principal, command)
            except (ConcurrentRequest, AlreadyExists) as exc:
                if isinstance(exc, AlreadyExists) and exc.reason == "REQUEST_ID_REUSED":
                    raise
                last = exc
        raise last

    async def _send_once(self, principal: Principal, command: SendCommand) -> Message:
        prepared = await self._prepare(principal, command)
        if _batchable(command):
            # Sends that arrive together share one transaction (send_batch.py).
            return await self._batches.send(prepared)
        return await self._write_one(prepared)

    async def _prepare(self, principal: Principal, command: SendCommand) -> PreparedSend:
        """Everything checked before the write transaction opens: no call to another
        context happens while rows are locked."""
        tenant = command.tenant_id
        channel = await self._channel(tenant, await self._channel_id(command))
        if self._attachments is not None:
            # Real size and type of attachments, so the channel's limits are checked on them.
            content = await resolve_attachments(self._attachments, tenant, command.content)
            command = replace(command, content=content)
        validate_content(command.content, channel.capabilities)
        if (
            command.content.WhichOneof("kind") == "template"
            and channel.capabilities.supports_templates
        ):
            template = command.content.template
            check_template(
                template,
                channel.templates.get((template.name, template.language)),
                synced=bool(channel.templates),
            )
        adapted = adapt(command.content, channel.capabilities)
        allowance = None if command.validate_only else await self._quota.allowance(tenant)
        return PreparedSend(
            command=command,
            channel=channel,
            sender=sender_of(principal),
            delivered_content=adapted.content if adapted.degraded_from else None,
            allowance=allowance,
        )

    async def _write_one(self, prepared: PreparedSend) -> Message:
        """The send in a transaction of its own."""
        command, channel = prepared.command, prepared.channel
        now = self._clock.now()
        tenant = command.tenant_id
        async with self._uow(tenant) as uow:
            if command.request_id:
                name = await first_result(
                    uow.idempotency,
                    tenant,
                    IDEMPOTENCY_SCOPE,
                    command.request_id,
                    command.request_hash,
                    now,
                )
                first = await uow.messages.get(tenant, name.rsplit("/", 1)[-1]) if name else None
                if first is not None:
                    return first
            conversation = await self._target(uow, command, channel, now)
            self._check_reply_window(conversation, channel, command.content, now)
            await self._check_references(uow, command, conversation)
            text = plain_text(command.content)
            conversation, seq = conversation.record_outbound(text, now)
            conversation = await uow.conversations.update(
                conversation, expected_version=conversation.version
            )
            identity_address = await self._recipient_address(uow, conversation, channel)
            message = Message(
                id=new_id(),
                tenant_id=tenant,
                conversation_id=conversation.id,
                channel_id=channel.id,
                contact_id=conversation.contact_id,
                seq=seq,
                direction=Direction.OUTBOUND,
                sender=prepared.sender,
                content=command.content,
                delivered_content=prepared.delivered_content,
                status=MessageStatus.ACCEPTED,
                create_time=now,
                update_time=now,
                address=identity_address,
                body_text=text,
                reply_to_id=command.reply_to_id,
                request_id=command.request_id or None,
                metadata=dict(command.metadata),
            )
            if command.validate_only:
                return message
            if prepared.allowance is not None:
                await self._quota.consume(uow, prepared.allowance, tenant)
            await uow.messages.add(message)
            uow.outbox.add(delivery_row(message))
            await uow.events.record(MessageCreated(message))
            if command.request_id:
                await uow.idempotency.put(
                    tenant,
                    IDEMPOTENCY_SCOPE,
                    command.request_id,
                    IdempotencyRecord(command.request_hash, message.name),
                    now,
                )
            await uow.commit()
        self._on_commit()
        return message

    async def _channel_id(self, command: SendCommand) -> str:
        if command.channel_id is not None:
            return command.channel_id
        assert command.conversation_id is not None
        async with self._uow(command.tenant_id, read_only=True) as uow:
            conversation = await uow.conversations.get(command.tenant_id, command.conversation_id)
        if conversation is None:
            name = f"tenants/{command.tenant_id}/conversations/{command.conversation_id}"
            raise NotFound(f"{name} not found")
        return conversation.channel_id

    async def _target(
        self,
        uow: SqlMessagingUnitOfWork,
        command: SendCommand,
        channel: ChannelInfo,
        now: datetime,
    ) -> Conversation:
        tenant = command.tenant_id
        if command.conversation_id is not None:
            conversation = await uow.conversations.get(
                tenant, command.conversation_id, for_update=True
            )
            if conversation is None:
                raise NotFound(
                    f"tenants/{tenant}/conversations/{command.conversation_id} not found"
                )
            return conversation
        if not command.address.strip():
            raise InvalidArgument.for_field("recipient.address", "is required")
        contact = await resolve_contact(
            uow.contacts,
            tenant,
            channel.type,
            command.address,
            command.display_name,
            channel.id,
            now,
            events=uow.events,
        )
        conversation = await uow.conversations.find(tenant, channel.id, contact.id, for_update=True)
        if conversation is not None:
            return conversation
        conversation = Conversation.start(
            new_id(),
            tenant,
            channel.id,
            channel.type,
            contact.id,
            now,
            contact_display_name=contact.display_name,
        )
        await uow.conversations.add(conversation)
        await uow.events.record(ConversationCreated(conversation))
        return conversation

    async def _target_of(
        self, uow: SqlMessagingUnitOfWork, prepared: PreparedSend, now: datetime
    ) -> Conversation:
        return await self._target(uow, prepared.command, prepared.channel, now)

    async def _channel(self, tenant_id: str, channel_id: str) -> ChannelInfo:
        channel = await self._channels.get(tenant_id, channel_id)
        if channel is None:
            raise NotFound(f"tenants/{tenant_id}/channels/{channel_id} not found")
        return channel

    async def _recipient_address(
        self, uow: SqlMessagingUnitOfWork, conversation: Conversation, channel: ChannelInfo
    ) -> str:
        contact = await uow.contacts.get(conversation.tenant_id, conversation.contact_id)
        identity = contact.identity(channel.type) if contact is not None else None
        if identity is None:
            raise FailedPrecondition(
                f"{conversation.name}: the contact has no {channel.type.value} address anymore"
            )
        return identity.address

    def _check_reply_window(
        self,
        conversation: Conversation,
        channel: ChannelInfo,
        content: content_pb2.MessageContent,
        now: datetime,
    ) -> None:
        window = channel.capabilities.reply_window
        if not (window.seconds or window.nanos) or content.WhichOneof("kind") == "template":
            return
        if not conversation.reply_window_open(now):
            raise FailedPrecondition(
                f"the reply window of {conversation.name} is closed: "
                f"{channel.type.value} only allows free-form messages within "
                f"{timedelta(seconds=window.seconds)} of the contact's last message; "
                "send a template message instead",
                reason="REPLY_WINDOW_CLOSED",
                metadata={"conversation": conversation.name},
            )

    async def _check_references(
        self, uow: SqlMessagingUnitOfWork, command: SendCommand, conversation: Conversation
    ) -> None:
        tenant = command.tenant_id
        if command.reply_to_id is not None:
            quoted = await uow.messages.get(tenant, command.reply_to_id)
            if quoted is None or quoted.conversation_id != conversation.id:
                raise InvalidArgument.for_field(
                    "reply_to", "must be a message of the same conversation"
                )
        if command.content.WhichOneof("kind") == "reaction":
            target_id = command.content.reaction.message.rsplit("/", 1)[-1]
            target = await uow.messages.get(tenant, target_id)
            if target is None or target.conversation_id != conversation.id:
                raise InvalidArgument.for_field(
                    "content.reaction.message", "must be a message of the same conversation"
                )
