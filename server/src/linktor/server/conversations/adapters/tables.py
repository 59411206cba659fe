"""Tables of the conversations context."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from linktor.server.infra.db.types import UTCDateTime, metadata

# One conversation per (channel, contact): resolved ones reopen when the contact writes.
conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("channel_id", String(64), ForeignKey("channels.id"), nullable=False),
    Column("contact_id", String(64), ForeignKey("contacts.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("assignee_user_id", String(64), nullable=True),
    Column("snooze_time", UTCDateTime, nullable=True),
    Column("subject", String(200), nullable=False, server_default=""),
    Column("tags", JSON, nullable=False),
    Column("last_activity_time", UTCDateTime, nullable=False),
    Column("last_message_preview", String(200), nullable=False, server_default=""),
    Column("unread_count", Integer, nullable=False, server_default="0"),
    Column("last_inbound_time", UTCDateTime, nullable=True),
    Column("reply_window_expire_time", UTCDateTime, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("resolve_time", UTCDateTime, nullable=True),
    # Messages ever stored in the conversation; each message takes the next number.
    Column("message_seq", BigInteger, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("tenant_id", "channel_id", "contact_id"),
    Index(None, "tenant_id", "last_activity_time", "id"),
    Index(None, "tenant_id", "status", "last_activity_time"),
    # The snooze waker's scan: due SNOOZED conversations of every tenant.
    Index(None, "status", "snooze_time"),
)
