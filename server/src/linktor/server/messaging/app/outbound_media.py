"""Outbound attachments: before the delivery worker calls Send, media whose source is a
Linktor attachment is uploaded to the channel's adapter (UploadMedia: a start message, then
the bytes in 1 MiB chunks) and sent by the provider's media id.

The provider's id is remembered per (channel, attachment) with its expiry, so a retry or a
later send of the same file on the same channel reuses it instead of uploading again (ids
within an hour of expiring are not reused). An adapter that answers NOT_SUPPORTED takes
attachments by reference (web chat serves them itself): the content goes unchanged, and the
channel type is remembered so its later sends skip the upload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.server.infra.media.port import CHUNK_BYTES, MediaMissing
from linktor.server.logs import get_logger
from linktor.server.media.app.ports import ProviderMedia
from linktor.server.media.domain.attachment import Attachment
from linktor.server.messaging.app.channels import ChannelInfo
from linktor.server.messaging.app.media import MediaFiles, ProviderMediaIds
from linktor.server.messaging.domain.errors import DeliveryError
from linktor.server.messaging.domain.media_parts import attachment_id, media_parts
from linktor.server.messaging.domain.message import Message
from linktor.server.shared.clock import Clock
from linktor.server.shared.proto_time import from_timestamp
from linktor.v1 import content_pb2

log = get_logger(__name__)

# Within the delivery lease (60 s): the worker must finish before another may take over.
UPLOAD_TIMEOUT_SECONDS = 45.0
# A cached provider id this close to expiring is not used (the send itself may be retried).
REUSE_MARGIN = timedelta(hours=1)
MEDIA_NOT_FOUND = "MEDIA_NOT_FOUND"
NOT_SUPPORTED = "NOT_SUPPORTED"


class MediaUploadFailed(Exception):
    """The upload failed; the delivery attempt fails with ``error`` (retried if retryable)."""

    def __init__(self, error: DeliveryError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


def _chunked(chunk: bytes) -> list[adapter_pb2.UploadMediaRequest]:
    # The store reads CHUNK_BYTES at a time; slice anyway, it is the contract's maximum.
    return [
        adapter_pb2.UploadMediaRequest(chunk=chunk[offset : offset + CHUNK_BYTES])
        for offset in range(0, len(chunk), CHUNK_BYTES)
    ]


async def _requests(
    start: adapter_pb2.UploadMediaStart, first: bytes, rest: AsyncIterator[bytes]
) -> AsyncIterator[adapter_pb2.UploadMediaRequest]:
    yield adapter_pb2.UploadMediaRequest(start=start)
    for part in _chunked(first):
        yield part
    async for chunk in rest:
        for part in _chunked(chunk):
            yield part


class OutboundMedia:
    def __init__(self, files: MediaFiles, cache: ProviderMediaIds, clock: Clock) -> None:
        self._files = files
        self._cache = cache
        self._clock = clock
        # Channel types whose adapter takes attachments by reference (learned, per process).
        self._by_reference: set[str] = set()

    async def prepare(
        self,
        message: Message,
        channel: ChannelInfo,
        content: content_pb2.MessageContent,
        stub: adapter_pb2_grpc.ChannelAdapterAsyncStub,
    ) -> None:
        """Rewrite ``content`` in place: attachments become provider media ids."""
        for _, media in media_parts(content):
            ident = attachment_id(media)
            if ident is None or channel.type.value in self._by_reference:
                continue
            provider_id = await self._provider_id(message, channel, media, ident, stub)
            if provider_id is not None:
                media.provider_media_id = provider_id  # the oneof drops the attachment

    async def _provider_id(
        self,
        message: Message,
        channel: ChannelInfo,
        media: content_pb2.MediaContent,
        ident: str,
        stub: adapter_pb2_grpc.ChannelAdapterAsyncStub,
    ) -> str | None:
        now = self._clock.now()
        cached = await self._cache.get(message.tenant_id, channel.id, ident)
        if cached is not None and _usable(cached, now):
            return cached.provider_media_id
        attachment = await self._files.lookup(message.tenant_id, ident)
        if attachment is None:
            raise MediaUploadFailed(
                DeliveryError(MEDIA_NOT_FOUND, f"{media.attachment} no longer exists", False)
            )
        response = await self._upload(channel, media, attachment, stub)
        if response.HasField("error"):
            err = response.error.error
            if err.code == NOT_SUPPORTED:
                self._by_reference.add(channel.type.value)
                return None
            retry_after = response.error.retry_after.ToTimedelta().total_seconds() or None
            raise MediaUploadFailed(
                DeliveryError(
                    err.code or "MEDIA_UPLOAD_FAILED",
                    f"media upload failed: {err.message}",
                    err.retryable,
                    err.provider_code,
                    err.provider_message,
                ),
                retry_after,
            )
        expire = from_timestamp(response.expire_time) if response.HasField("expire_time") else None
        uploaded = ProviderMedia(response.provider_media_id, expire)
        await self._cache.put(message.tenant_id, channel.id, ident, uploaded)
        log.info(
            "attachment uploaded to the provider",
            channel=channel.id,
            attachment=attachment.name,
            size=attachment.size_bytes,
        )
        return uploaded.provider_media_id

    async def _upload(
        self,
        channel: ChannelInfo,
        media: content_pb2.MediaContent,
        attachment: Attachment,
        stub: adapter_pb2_grpc.ChannelAdapterAsyncStub,
    ) -> adapter_pb2.UploadMediaResponse:
        start = adapter_pb2.UploadMediaStart(
            channel=channel.config,
            metadata=adapter_pb2.MediaMetadata(
                type=media.type,
                mime_type=attachment.mime_type,
                filename=media.filename or attachment.filename,
                size_bytes=attachment.size_bytes,
            ),
        )
        chunks = self._files.open(attachment)
        try:
            # Read before the call opens: a missing file is a permanent failure, not an
            # aborted stream.
            first = await anext(chunks, b"")
        except MediaMissing:
            raise MediaUploadFailed(
                DeliveryError(MEDIA_NOT_FOUND, f"the bytes of {attachment.name} are gone", False)
            ) from None
        return await stub.UploadMedia(
            _requests(start, first, chunks), timeout=UPLOAD_TIMEOUT_SECONDS
        )


def _usable(cached: ProviderMedia, now: datetime) -> bool:
    return cached.expire_time is None or cached.expire_time - REUSE_MARGIN > now
