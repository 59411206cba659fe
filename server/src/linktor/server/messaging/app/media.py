"""What messaging needs from the media context (implemented by media.app.Attachments)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

from linktor.server.media.app.ports import ProviderMedia
from linktor.server.media.domain.attachment import Attachment


class MediaFiles(Protocol):
    async def lookup(self, tenant_id: str, attachment_id: str) -> Attachment | None:
        """The attachment of ``tenant_id``, or None."""
        ...

    def open(self, attachment: Attachment) -> AsyncIterator[bytes]:
        """The attachment's bytes in chunks."""
        ...

    async def store_stream(
        self,
        tenant_id: str,
        filename: str,
        mime_type: str,
        chunks: AsyncIterable[bytes],
        *,
        limit: int | None = None,
        sniff: bool = True,
    ) -> Attachment:
        """Store bytes as a new attachment (InvalidArgument when too large)."""
        ...


class ProviderMediaIds(Protocol):
    async def get(
        self, tenant_id: str, channel_id: str, attachment_id: str
    ) -> ProviderMedia | None: ...

    async def put(
        self, tenant_id: str, channel_id: str, attachment_id: str, media: ProviderMedia
    ) -> None: ...
