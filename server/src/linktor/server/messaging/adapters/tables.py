"""Tables of the messaging context: messages, attempts, attachments, outbox, idempotency."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from linktor.server.infra.db.types import UTCDateTime, metadata

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    # Position in the conversation (acceptance order); delivery follows it.
    Column("seq", BigInteger, nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("contact_id", String(64), nullable=False),
    # The contact's address on the channel when the message was stored (recipient of
    # outbound, sender of inbound).
    Column("address", String(255), nullable=False, server_default=""),
    Column("direction", String(16), nullable=False),
    Column("sender_type", String(16), nullable=False),
    Column("sender_name", String(255), nullable=False, server_default=""),
    Column("sender_display_name", String(200), nullable=False, server_default=""),
    # linktor.v1.MessageContent, serialized (binary protobuf).
    Column("content", LargeBinary, nullable=False),
    Column("delivered_content", LargeBinary, nullable=True),
    # Plain text of the content, for search and previews.
    Column("body_text", Text, nullable=False, server_default=""),
    Column("reply_to_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("error", JSON, nullable=True),
    Column("provider_message_id", String(255), nullable=True),
    Column("request_id", String(128), nullable=True),
    Column("metadata", JSON, nullable=False),
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    Column("next_attempt_time", UTCDateTime, nullable=True),
    # A delivery worker holds the message until then; another may take it over afterwards.
    Column("lease_until", UTCDateTime, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("send_time", UTCDateTime, nullable=True),
    Column("deliver_time", UTCDateTime, nullable=True),
    Column("read_time", UTCDateTime, nullable=True),
    Column("fail_time", UTCDateTime, nullable=True),
    Column("provider_time", UTCDateTime, nullable=True),
    # Provider redeliveries are stored once.
    UniqueConstraint("channel_id", "provider_message_id"),
    UniqueConstraint("conversation_id", "seq"),
    Index(None, "tenant_id", "conversation_id", "id"),
    Index(None, "status", "next_attempt_time"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("message_id", String(64), ForeignKey("messages.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("start_time", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", JSON, nullable=True),
    Column("retry_after_ms", Integer, nullable=True),
    Column("next_attempt_time", UTCDateTime, nullable=True),
    UniqueConstraint("message_id", "number"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("filename", String(255), nullable=False, server_default=""),
    Column("mime_type", String(255), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    # Where the media storage port keeps the bytes.
    Column("storage_key", String(512), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Index(None, "tenant_id", "create_time"),
)
