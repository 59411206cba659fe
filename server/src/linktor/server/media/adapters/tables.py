"""Tables of the media context (the ``attachments`` table itself is in messaging's
tables module, where the first migration put it)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table

from linktor.server.infra.db.types import UTCDateTime, metadata
from linktor.server.messaging.adapters.tables import attachments as attachments

# An attachment uploaded to a channel's provider (WhatsApp media ids live 30 days): sends of
# the same file on the same channel reuse the id until it expires.
provider_media = Table(
    "provider_media",
    metadata,
    Column("channel_id", String(64), primary_key=True),
    Column("attachment_id", String(64), ForeignKey("attachments.id"), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("provider_media_id", String(512), nullable=False),
    Column("expire_time", UTCDateTime, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
)
