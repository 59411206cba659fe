"""Visitor uploads: checked against the channel's limits, bytes to media storage, metadata
to the attachments table. The declared type must be allowed AND match the file's magic
bytes for the types that have one (a visitor cannot pass HTML off as a PNG)."""

from __future__ import annotations

import hashlib

from linktor.server.infra.media.port import MediaStorage
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.ids import new_id
from linktor.server.webchat.app.ports import AttachmentStore, StoredAttachment, WebchatChannel
from linktor.server.webchat.domain.text import clean_name

_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04",),
}


def _content_matches(mime_type: str, data: bytes) -> bool:
    if mime_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    signatures = _MAGIC.get(mime_type)
    return signatures is None or any(data.startswith(s) for s in signatures)


def clean_filename(raw: str) -> str:
    """A file name to show: no path, no control characters, at most 120 characters."""
    name = clean_name(raw.replace("\\", "/").rsplit("/", 1)[-1], limit=120)
    return name.lstrip(".") or "attachment"


class UnsupportedFile(InvalidArgument):
    """A type the channel does not take, or bytes that are not of the declared type (415)."""


class VisitorUploads:
    def __init__(self, storage: MediaStorage, store: AttachmentStore, clock: Clock) -> None:
        self._storage = storage
        self._store = store
        self._clock = clock

    async def upload(
        self, channel: WebchatChannel, mime_type: str, filename: str, data: bytes
    ) -> StoredAttachment:
        settings = channel.settings
        mime = mime_type.split(";", 1)[0].strip().lower()
        if mime not in settings.allowed_mime_types:
            raise UnsupportedFile(f"{mime[:80]!r} files are not accepted here")
        if not data:
            raise InvalidArgument.for_field("body", "the file is empty")
        if len(data) > settings.max_upload_bytes:
            raise InvalidArgument.for_field(
                "body", f"larger than {settings.max_upload_bytes} bytes"
            )
        if not _content_matches(mime, data):
            raise UnsupportedFile(f"the file is not {mime}")
        attachment_id = new_id()
        attachment = StoredAttachment(
            id=attachment_id,
            tenant_id=channel.tenant_id,
            filename=clean_filename(filename),
            mime_type=mime,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=f"{channel.tenant_id}/{attachment_id}",
            create_time=self._clock.now(),
        )
        await self._storage.put(attachment.storage_key, data)
        await self._store.add(attachment)
        return attachment

    async def download(
        self, channel: WebchatChannel, attachment_id: str
    ) -> tuple[StoredAttachment, bytes] | None:
        attachment = await self._store.get(channel.tenant_id, attachment_id)
        if attachment is None:
            return None
        data = await self._storage.get(attachment.storage_key)
        return None if data is None else (attachment, data)
