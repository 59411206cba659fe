"""Read receipts and typing indicators towards contacts, through the channel's adapter.

- ``messages_read``: the conversations context calls it after MarkConversationRead commits,
  with the inbound messages that just became READ. Each gets a message.updated event; when
  the channel supports read receipts, the adapter's MarkRead is called once, for the newest of
  them that has a provider id (providers mark everything before it read too).
- ``send_typing``: an ephemeral typing event for live streams (the web chat widget shows it),
  then the adapter's SendTyping when the channel supports typing, with the newest inbound
  provider message id (WhatsApp needs one).

Provider calls are bounded by a short timeout and their failures are logged, never raised:
the read marks are already committed, and a receipt or an indicator is a courtesy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import grpc

from linktor.adapter.v1 import adapter_pb2
from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.logs import get_logger
from linktor.server.messaging.adapters.sql_signals import messages_by_ids, newest_inbound
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.channels import ChannelInfo, ChannelLookup
from linktor.server.messaging.app.delivery import channel_type_number
from linktor.server.messaging.domain.events import MessageUpdated
from linktor.server.messaging.domain.status import Direction, MessageStatus
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import DomainError
from linktor.v1 import event_pb2

log = get_logger(__name__)

CALL_TIMEOUT_SECONDS = 5.0

EphemeralPublisher = Callable[[str, event_pb2.Event], Awaitable[None]]


class ContactSignals:
    def __init__(
        self,
        uow: Callable[[str], SqlMessagingUnitOfWork],
        channels: ChannelLookup,
        adapters: AdapterProvider,
        clock: Clock,
        ephemeral: EphemeralPublisher,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._channels = channels
        self._adapters = adapters
        self._clock = clock
        self._ephemeral = ephemeral
        self._on_commit = on_commit

    async def messages_read(self, conversation: Conversation, message_ids: Sequence[str]) -> None:
        tenant = conversation.tenant_id
        async with self._uow(tenant) as uow:
            read = await messages_by_ids(uow.connection, tenant, message_ids)
            read = [
                m
                for m in read
                if m.status is MessageStatus.READ and m.conversation_id == conversation.id
            ]
            for message in read:
                await uow.events.record(MessageUpdated(message))
            await uow.commit()
        if read:
            self._on_commit()
        newest = next(
            (
                m
                for m in reversed(read)
                if m.provider_message_id and m.direction is Direction.INBOUND
            ),
            None,
        )
        if newest is None:
            return
        channel = await self._channels.get(tenant, conversation.channel_id)
        if channel is None or not channel.capabilities.supports_read_receipts:
            return
        request = adapter_pb2.MarkReadRequest(
            channel=channel.config,
            recipient=newest.address,
            provider_message_id=newest.provider_message_id or "",
        )
        await self._call(channel, "MarkRead", request)

    async def send_typing(self, conversation: Conversation, typing: bool, actor: str) -> bool:
        """Whether the channel supports typing indicators (the event is published anyway)."""
        event = event_pb2.Event(type="typing.started" if typing else "typing.stopped")
        event.create_time.FromDatetime(self._clock.now())
        event.typing.conversation = conversation.name
        event.typing.actor = actor
        event.typing.typing = typing
        await self._ephemeral(conversation.tenant_id, event)
        channel = await self._channels.get(conversation.tenant_id, conversation.channel_id)
        if channel is None or not channel.capabilities.supports_typing:
            return False
        async with self._uow(conversation.tenant_id) as uow:
            newest = await newest_inbound(uow.connection, conversation.tenant_id, conversation.id)
            contact = await uow.contacts.get(conversation.tenant_id, conversation.contact_id)
        identity = contact.identity(channel.type) if contact is not None else None
        recipient = identity.address if identity else (newest.address if newest else "")
        if not recipient:
            return True
        request = adapter_pb2.SendTypingRequest(
            channel=channel.config,
            recipient=recipient,
            typing=typing,
            provider_message_id=(newest.provider_message_id or "") if newest else "",
        )
        await self._call(channel, "SendTyping", request)
        return True

    async def _call(
        self,
        channel: ChannelInfo,
        method: str,
        request: adapter_pb2.MarkReadRequest | adapter_pb2.SendTypingRequest,
    ) -> None:
        try:
            adapter = await self._adapters.acquire(
                channel_type_number(channel), address=channel.adapter_address
            )
            if isinstance(request, adapter_pb2.MarkReadRequest):
                response: (
                    adapter_pb2.MarkReadResponse | adapter_pb2.SendTypingResponse
                ) = await adapter.stub.MarkRead(request, timeout=CALL_TIMEOUT_SECONDS)
            else:
                response = await adapter.stub.SendTyping(request, timeout=CALL_TIMEOUT_SECONDS)
        except (grpc.aio.AioRpcError, DomainError) as exc:
            log.warning(f"{method} failed", channel=channel.id, error=str(exc)[:200])
            return
        if response.HasField("error"):
            err = response.error.error
            log.warning(
                f"{method} refused by the provider",
                channel=channel.id,
                code=err.code,
                provider_code=err.provider_code,
                message=err.message[:200],
            )
