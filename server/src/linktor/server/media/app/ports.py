"""Ports of the media context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from linktor.server.media.domain.attachment import Attachment


class AttachmentRepository(Protocol):
    async def add(self, attachment: Attachment) -> None: ...

    async def get(self, tenant_id: str, attachment_id: str) -> Attachment | None:
        """The attachment, or None (also for another tenant's)."""
        ...


@dataclass(frozen=True)
class ProviderMedia:
    """An attachment uploaded to a channel's provider: the id to send it by, until when."""

    provider_media_id: str
    expire_time: datetime | None


class ProviderMediaCache(Protocol):
    """Provider media ids per (channel, attachment), so retries and repeated sends of the
    same file do not upload it again."""

    async def get(
        self, tenant_id: str, channel_id: str, attachment_id: str
    ) -> ProviderMedia | None: ...

    async def put(
        self, tenant_id: str, channel_id: str, attachment_id: str, media: ProviderMedia
    ) -> None:
        """Remember (replacing an older id of the same pair)."""
        ...
