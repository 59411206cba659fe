"""Inbound media: what a contact sent by provider media id (or provider URL) is downloaded
through the channel's adapter (DownloadMedia) into media storage as an attachment, and the
message's content is rewritten to reference it (message.updated).

It happens after the message is stored, not inline: agents see the message at once, and
a large or slow download never holds an inbound worker (status callbacks keep flowing).
Durability: the inbound worker publishes a fetch item for every media message of a batch
BEFORE acknowledging the batch (bus msg_id per provider message, so redeliveries collapse);
the media worker acknowledges an item only once the content is rewritten or the failure is
final. Every step is idempotent: an item for a message whose media is already local is
acknowledged without work.

Transient failures (adapter or provider unavailable, rate limited, timeouts) are retried
with growing delays; permanent ones (unknown media, too large, no DownloadMedia) keep the
provider reference and record ``media_error`` in the message metadata.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import grpc

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.server.infra.bus.port import Delivery, EventBus, Subscription
from linktor.server.logs import get_logger
from linktor.server.media.domain.attachment import Attachment
from linktor.server.messaging.adapters.sql_signals import replace_content
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.channels import ChannelInfo, ChannelLookup
from linktor.server.messaging.app.delivery import channel_type_number
from linktor.server.messaging.app.media import MediaFiles
from linktor.server.messaging.domain.events import MessageUpdated
from linktor.server.messaging.domain.media_parts import media_parts, needs_fetch
from linktor.server.messaging.domain.message import Message
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import DomainError, InvalidArgument
from linktor.v1 import content_pb2

log = get_logger(__name__)

MEDIA_SUBJECTS = "linktor.media.>"
DURABLE = "inbound-media"
DOWNLOAD_TIMEOUT_SECONDS = 240.0
ACK_WAIT_SECONDS = 300.0
# Delays before the 2nd, 3rd ... attempt of a transient failure; then it is final.
RETRY_DELAYS = (2.0, 10.0, 30.0, 120.0, 600.0)
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DATA_LOSS,
    }
)
_MEDIA_TYPE_NAMES = {
    content_pb2.MEDIA_TYPE_IMAGE: "image",
    content_pb2.MEDIA_TYPE_VIDEO: "video",
    content_pb2.MEDIA_TYPE_AUDIO: "audio",
    content_pb2.MEDIA_TYPE_VOICE: "voice",
    content_pb2.MEDIA_TYPE_DOCUMENT: "document",
    content_pb2.MEDIA_TYPE_STICKER: "sticker",
}


def media_subject(channel_id: str) -> str:
    return f"linktor.media.{channel_id}"


@dataclass(frozen=True)
class FetchItem:
    tenant_id: str
    channel_id: str
    provider_message_id: str

    def encode(self) -> bytes:
        return json.dumps(
            {"t": self.tenant_id, "c": self.channel_id, "p": self.provider_message_id}
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> FetchItem:
        raw = json.loads(data)
        return cls(str(raw["t"]), str(raw["c"]), str(raw["p"]))


class _Retry(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InboundMedia:
    def __init__(
        self,
        bus: EventBus,
        channels: ChannelLookup,
        adapters: AdapterProvider,
        files: MediaFiles,
        uow: Callable[[str], SqlMessagingUnitOfWork],
        clock: Clock,
        *,
        max_bytes: int,
        concurrency: int = 8,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._bus = bus
        self._channels = channels
        self._adapters = adapters
        self._files = files
        self._uow = uow
        self._clock = clock
        self._max_bytes = max_bytes
        self._concurrency = concurrency
        self._on_commit = on_commit
        self._subscription: Subscription | None = None

    # ------------------------------------------------------------ scheduling (inbound worker)
    async def schedule(
        self, tenant_id: str, channel_id: str, events: Sequence[adapter_pb2.InboundEvent]
    ) -> int:
        """Publish a fetch item for each inbound message of ``events`` carrying provider
        media; how many."""
        count = 0
        for event in events:
            if event.WhichOneof("kind") != "message" or not event.message.provider_message_id:
                continue
            if not any(needs_fetch(m) for _, m in media_parts(event.message.content)):
                continue
            item = FetchItem(tenant_id, channel_id, event.message.provider_message_id)
            msg_id = f"media-{channel_id}-{item.provider_message_id}"[:250]
            await self._bus.publish(media_subject(channel_id), item.encode(), msg_id=msg_id)
            count += 1
        return count

    # ------------------------------------------------------------ the media worker
    async def start(self) -> None:
        self._subscription = await self._bus.consume(
            MEDIA_SUBJECTS,
            DURABLE,
            self.handle,
            max_in_flight=self._concurrency,
            ack_wait_seconds=ACK_WAIT_SECONDS,
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()

    async def handle(self, delivery: Delivery) -> None:
        item = FetchItem.decode(delivery.data)
        try:
            await self.fetch(item, delivery)
        except _Retry as exc:
            if delivery.attempt <= len(RETRY_DELAYS):
                delay = RETRY_DELAYS[delivery.attempt - 1]
                log.info("inbound media fetch retried", channel=item.channel_id, delay=delay)
                await delivery.nak(delay)
                return
            await self._give_up(item, exc.reason)
        await delivery.ack()

    async def fetch(self, item: FetchItem, delivery: Delivery | None = None) -> Message | None:
        """Download the message's provider media; the message as rewritten, or None when
        there was nothing to do. _Retry on a transient failure."""
        message = await self._message(item)
        if message is None or not any(needs_fetch(m) for _, m in media_parts(message.content)):
            return None
        channel = await self._channels.get(item.tenant_id, item.channel_id)
        if channel is None:
            return None
        try:
            adapter = await self._adapters.acquire(
                channel_type_number(channel), address=channel.adapter_address
            )
        except DomainError as exc:
            raise _Retry(f"adapter unavailable: {exc.message}") from None
        content = content_pb2.MessageContent()
        content.CopyFrom(message.content)
        metadata = dict(message.metadata)
        for path, media in media_parts(content):
            if not needs_fetch(media):
                continue
            source = media.provider_media_id or media.url
            try:
                stored = await self._download(channel, adapter.stub, message, media, delivery)
            except grpc.aio.AioRpcError as exc:
                if exc.code() in _TRANSIENT:
                    raise _Retry(f"{exc.code().name}: {exc.details()}") from None
                metadata["media_error"] = f"{exc.code().name}: {exc.details()}"[:500]
                continue
            except InvalidArgument as exc:
                metadata["media_error"] = exc.message[:500]
                continue
            metadata[f"{path.removeprefix('content.')}.source"] = source[:500]
            media.attachment = stored.name
            media.mime_type = stored.mime_type
            media.size_bytes = stored.size_bytes
            media.sha256 = stored.sha256
            if stored.filename and not media.filename:
                media.filename = stored.filename
        return await self._store(message, content, metadata)

    async def _download(
        self,
        channel: ChannelInfo,
        stub: adapter_pb2_grpc.ChannelAdapterAsyncStub,
        message: Message,
        media: content_pb2.MediaContent,
        delivery: Delivery | None,
    ) -> Attachment:
        call = stub.DownloadMedia(
            adapter_pb2.DownloadMediaRequest(
                channel=channel.config, provider_media_id=media.provider_media_id or media.url
            ),
            timeout=DOWNLOAD_TIMEOUT_SECONDS,
        )
        first = await call.read()
        meta = adapter_pb2.MediaMetadata()
        leftover = b""
        if isinstance(first, adapter_pb2.DownloadMediaResponse):
            if first.HasField("metadata"):
                meta = first.metadata
            else:
                leftover = first.chunk
        mime = meta.mime_type or media.mime_type or "application/octet-stream"
        kind = _MEDIA_TYPE_NAMES.get(media.type, "media")
        filename = media.filename or meta.filename or f"{kind}-{message.id}"

        async def chunks() -> AsyncIterator[bytes]:
            if leftover:
                yield leftover
            received = 0
            while True:
                part = await call.read()
                if not isinstance(part, adapter_pb2.DownloadMediaResponse):
                    return
                if part.chunk:
                    received += 1
                    if delivery is not None and received % 16 == 0:
                        await delivery.in_progress()  # a long download keeps its item
                    yield part.chunk

        return await self._files.store_stream(
            message.tenant_id, filename, mime, chunks(), limit=self._max_bytes, sniff=False
        )

    async def _message(self, item: FetchItem) -> Message | None:
        async with self._uow(item.tenant_id) as uow:
            message = await uow.messages.by_provider_id(item.channel_id, item.provider_message_id)
        if message is None or message.tenant_id != item.tenant_id:
            return None
        return message

    async def _store(
        self, message: Message, content: content_pb2.MessageContent, metadata: dict[str, str]
    ) -> Message | None:
        if content == message.content and metadata == message.metadata:
            return None
        async with self._uow(message.tenant_id) as uow:
            updated = await replace_content(
                uow.connection, message.tenant_id, message.id, content, metadata, self._clock.now()
            )
            if updated is not None:
                await uow.events.record(MessageUpdated(updated))
            await uow.commit()
        self._on_commit()
        return updated

    async def _give_up(self, item: FetchItem, reason: str) -> None:
        log.warning("inbound media not fetched", channel=item.channel_id, reason=reason[:200])
        message = await self._message(item)
        if message is not None:
            metadata = {**message.metadata, "media_error": reason[:500]}
            await self._store(message, message.content, metadata)
