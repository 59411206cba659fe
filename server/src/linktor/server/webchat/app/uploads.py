"""Visitor uploads, through the media context's attachments (storage port, type sniffing,
metadata): the channel's own settings come first — its allowed types and size limit — then
the platform's rules (the bytes must match the declared type: a visitor cannot pass HTML off
as a PNG)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from linktor.server.media.app.attachments import Attachments
from linktor.server.media.domain.attachment import Attachment
from linktor.server.shared.errors import InvalidArgument
from linktor.server.webchat.app.ports import WebchatChannel


class UnsupportedFile(InvalidArgument):
    """A type the channel does not take, or bytes that are not of the declared type (415)."""


class TooLarge(InvalidArgument):
    """Over the channel's upload limit (413)."""


class VisitorUploads:
    def __init__(self, attachments: Attachments) -> None:
        self._attachments = attachments

    async def upload(
        self, channel: WebchatChannel, mime_type: str, filename: str, chunks: AsyncIterable[bytes]
    ) -> Attachment:
        mime = mime_type.split(";", 1)[0].strip().lower()
        if mime not in channel.settings.allowed_mime_types:
            raise UnsupportedFile(f"{mime[:80]!r} files are not accepted here")
        try:
            return await self._attachments.store_stream(
                channel.tenant_id,
                filename,
                mime,
                chunks,
                limit=channel.settings.max_upload_bytes,
            )
        except InvalidArgument as exc:
            if "content is not" in exc.message:
                raise UnsupportedFile(exc.message) from None
            if "over the limit" in exc.message:
                raise TooLarge(exc.message) from None
            raise

    async def download(
        self, channel: WebchatChannel, attachment_id: str
    ) -> tuple[Attachment, AsyncIterator[bytes]] | None:
        attachment = await self._attachments.lookup(channel.tenant_id, attachment_id)
        if attachment is None:
            return None
        return attachment, self._attachments.open(attachment)
