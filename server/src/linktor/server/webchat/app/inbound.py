"""A visitor's frames as inbound events of the channel, on the webhooks' durable path.

Messages, typing and receipts become ``InboundEvent``s exactly like a provider webhook's,
persisted to the outbox (``InboundPersister``) before the visitor is told ``accepted``; the
inbound workers then store them (deduplicated on channel + provider message id, so a
visitor re-sending the same client id after a reconnect is stored once), resolve the
contact (address = visitor id) and the conversation, and emit the events agents see.
"""

from __future__ import annotations

from datetime import datetime

from linktor.adapter.v1 import adapter_pb2
from linktor.server.media.domain.attachment import Attachment
from linktor.server.messaging.app.inbound_queue import InboundBatch
from linktor.server.shared.clock import Clock
from linktor.server.webchat.app.ports import (
    AttachmentLookup,
    EphemeralEvents,
    InboundSink,
    WebchatChannel,
)
from linktor.server.webchat.app.visitor_view import provider_id_prefix
from linktor.server.webchat.domain.frames import ChooseOption, FrameError, SendText
from linktor.v1 import content_pb2, event_pb2, message_pb2

_REPLY_TYPES = {
    "button": content_pb2.INTERACTIVE_REPLY_TYPE_BUTTON,
    "quick_reply": content_pb2.INTERACTIVE_REPLY_TYPE_QUICK_REPLY,
}


def media_type_of(mime_type: str) -> content_pb2.MediaType.ValueType:
    major = mime_type.split("/", 1)[0]
    return {
        "image": content_pb2.MEDIA_TYPE_IMAGE,
        "video": content_pb2.MEDIA_TYPE_VIDEO,
        "audio": content_pb2.MEDIA_TYPE_AUDIO,
    }.get(major, content_pb2.MEDIA_TYPE_DOCUMENT)


def _media(attachment: Attachment, caption: str) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(
        media=content_pb2.MediaContent(
            type=media_type_of(attachment.mime_type),
            attachment=attachment.name,
            mime_type=attachment.mime_type,
            size_bytes=attachment.size_bytes,
            filename=attachment.filename,
            caption=caption,
            sha256=attachment.sha256,
        )
    )


class VisitorInbound:
    def __init__(
        self,
        sink: InboundSink,
        attachments: AttachmentLookup,
        clock: Clock,
        ephemeral: EphemeralEvents,
    ) -> None:
        self._sink = sink
        self._ephemeral = ephemeral
        self._attachments = attachments
        self._clock = clock

    async def _persist(self, channel: WebchatChannel, *events: adapter_pb2.InboundEvent) -> None:
        # The persister group-commits concurrent callers and merges their events per
        # (channel, sender partition): many visitors' frames share a transaction.
        await self._sink.persist(InboundBatch(channel.tenant_id, channel.channel_id, list(events)))

    def _message(
        self, visitor_id: str, name: str, client_id: str, content: content_pb2.MessageContent
    ) -> adapter_pb2.InboundEvent:
        inbound = adapter_pb2.InboundMessage(
            provider_message_id=provider_id_prefix(visitor_id) + client_id,
            sender=visitor_id,
            sender_display_name=name,
            content=content,
        )
        inbound.time.FromDatetime(self._clock.now())
        return adapter_pb2.InboundEvent(message=inbound)

    async def send(
        self, channel: WebchatChannel, visitor_id: str, name: str, frame: SendText | ChooseOption
    ) -> None:
        if isinstance(frame, ChooseOption):
            content = content_pb2.MessageContent(
                interactive_reply=content_pb2.InteractiveReplyContent(
                    type=_REPLY_TYPES[frame.kind], id=frame.option_id, title=frame.title
                )
            )
        elif frame.attachment_id:
            attachment = await self._attachments.lookup(channel.tenant_id, frame.attachment_id)
            if attachment is None:
                raise FrameError("UNKNOWN_ATTACHMENT", "no such attachment", frame.client_id)
            content = _media(attachment, frame.text)
        else:
            content = content_pb2.MessageContent(text=content_pb2.TextContent(body=frame.text))
        await self._persist(channel, self._message(visitor_id, name, frame.client_id, content))

    async def typing(
        self, channel: WebchatChannel, contact: str, conversation: str, typing: bool
    ) -> None:
        """An ephemeral typing event for agents' streams: nothing is stored, so it does not
        take the durable path (a visitor types far more often than it sends)."""
        event = event_pb2.Event(type="typing.started" if typing else "typing.stopped")
        event.create_time.FromDatetime(self._clock.now())
        event.typing.conversation = conversation
        event.typing.actor = contact
        event.typing.typing = typing
        await self._ephemeral.publish_ephemeral(channel.tenant_id, event)

    async def receipts(
        self, channel: WebchatChannel, visitor_id: str, provider_ids: list[str], *, read: bool
    ) -> None:
        """DELIVERED status reports, or read receipts (READ and a read_receipt event)."""
        if not provider_ids:
            return
        now = self._clock.now()
        events = [self._receipt(visitor_id, pid, read, now) for pid in provider_ids]
        await self._persist(channel, *events)

    @staticmethod
    def _receipt(
        visitor_id: str, provider_id: str, read: bool, now: datetime
    ) -> adapter_pb2.InboundEvent:
        if read:
            event = adapter_pb2.ContactRead(sender=visitor_id, provider_message_id=provider_id)
            event.time.FromDatetime(now)
            return adapter_pb2.InboundEvent(read=event)
        status = adapter_pb2.StatusUpdate(
            provider_message_id=provider_id,
            status=message_pb2.MESSAGE_STATUS_DELIVERED,
            recipient=visitor_id,
        )
        status.time.FromDatetime(now)
        return adapter_pb2.InboundEvent(status=status)
