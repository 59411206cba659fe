"""UploadMedia and DownloadMedia against Meta's media endpoints.

Upload: the bytes (collected by the kit, at most 100 MiB) are checked against WhatsApp's
type and size limits, then posted as multipart to POST /{phone-number-id}/media with
``messaging_product=whatsapp``; Meta answers with the media id.
Download: GET /{media-id} gives a short-lived URL, its mime type, SHA-256 and size; the
URL is fetched with the bearer token and streamed on in chunks, and the SHA-256 Meta
announced is checked at the end.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from google.protobuf import timestamp_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapters.whatsapp import limits
from linktor.adapters.whatsapp.content_checks import ContentViolation
from linktor.adapters.whatsapp.graph_client import GraphClient
from linktor.adapters.whatsapp.outbound_media import check_media_limits
from linktor.v1 import content_pb2

# Meta keeps uploaded media for 30 days.
UPLOADED_MEDIA_LIFETIME = timedelta(days=30)


class MediaIntegrityError(Exception):
    """The downloaded bytes do not match the SHA-256 Meta announced."""


def check_upload(start: adapter_pb2.UploadMediaStart, data: bytes) -> None:
    """Refuses media WhatsApp would refuse, before it is sent to Meta."""
    meta = start.metadata
    if not meta.mime_type:
        raise ContentViolation("metadata.mime_type", "is required for uploads")
    if not data:
        raise ContentViolation("chunk", "no bytes were sent")
    if meta.size_bytes and meta.size_bytes != len(data):
        raise ContentViolation(
            "metadata.size_bytes", f"announced {meta.size_bytes} bytes but {len(data)} arrived"
        )
    check_media_limits("metadata", meta.type, meta.mime_type, len(data))


async def upload(
    client: GraphClient, start: adapter_pb2.UploadMediaStart, data: bytes
) -> adapter_pb2.UploadMediaResponse:
    """Posts media to Meta and answers with the media id and its expiry."""
    meta = start.metadata
    media_id = await client.upload_media(
        io.BytesIO(data), limits.base_mime_type(meta.mime_type), meta.filename
    )
    expire_time = timestamp_pb2.Timestamp()
    expire_time.FromDatetime(datetime.now(UTC) + UPLOADED_MEDIA_LIFETIME)
    return adapter_pb2.UploadMediaResponse(provider_media_id=media_id, expire_time=expire_time)


def media_type_for(mime_type: str) -> content_pb2.MediaType.ValueType:
    """The canonical MediaType Meta's mime type suggests (inbound media)."""
    base = limits.base_mime_type(mime_type)
    if base == "image/webp":
        return content_pb2.MEDIA_TYPE_STICKER
    for prefix, media_type in (
        ("image/", content_pb2.MEDIA_TYPE_IMAGE),
        ("video/", content_pb2.MEDIA_TYPE_VIDEO),
        ("audio/", content_pb2.MEDIA_TYPE_AUDIO),
    ):
        if base.startswith(prefix):
            return media_type
    return content_pb2.MEDIA_TYPE_DOCUMENT


async def media_metadata(
    client: GraphClient, provider_media_id: str
) -> tuple[adapter_pb2.MediaMetadata, str, str]:
    """(metadata, download URL, announced SH-256) of inbound media (an id or a URL)."""
    if provider_media_id.startswith(("https://", "http://")):
        return adapter_pb2.MediaMetadata(), provider_media_id, ""
    info = await client.media_info(provider_media_id)
    mime_type = str(info.get("mime_type", ""))
    metadata = adapter_pb2.MediaMetadata(
        type=media_type_for(mime_type),
        mime_type=mime_type,
        size_bytes=int(info.get("file_size", 0) or 0),
    )
    return metadata, str(info.get("url", "")), str(info.get("sha256", "")).lower()


async def media_bytes(client: GraphClient, url: str, sha256: str) -> AsyncIterator[bytes]:
    """The bytes at a media URL, chunk by chunk; MediaIntegrityError on a hash mismatch."""
    digest = hashlib.sha256()
    async with client.download(url) as chunks:
        async for chunk in chunks:
            digest.update(chunk)
            yield chunk
    if sha256 and digest.hexdigest() != sha256:
        raise MediaIntegrityError("the downloaded media does not match the SHA-256 Meta announced")
