"""Tables of the channels context."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
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

channels = Table(
    "channels",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_reason", Text, nullable=False, server_default=""),
    Column("config", JSON, nullable=False),
    # Secrets are encrypted by the application (never stored in clear).
    Column("secrets_ciphertext", LargeBinary, nullable=True),
    Column("secret_keys", JSON, nullable=False),
    # The unguessable token in the channel's public webhook URL.
    Column("webhook_token", String(64), nullable=False, unique=True),
    Column("rate_per_second", Float, nullable=False, server_default="0"),
    Column("rate_burst", Integer, nullable=False, server_default="0"),
    Column("adapter_address", String(255), nullable=False, server_default=""),
    Column("allowed_origins", JSON, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("delete_time", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Index(None, "tenant_id", "create_time"),
)

# Provider-approved message templates, as last synced; (name, language) identifies one at
# the provider, the id is ours and survives syncs. Pages go by (template_name, language).
message_templates = Table(
    "message_templates",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("channel_id", String(64), ForeignKey("channels.id"), nullable=False),
    Column("template_name", String(512), nullable=False),
    Column("language", String(16), nullable=False),
    Column("category", String(32), nullable=False, server_default=""),
    Column("status", String(32), nullable=False, server_default=""),
    Column("provider_template_id", String(128), nullable=False, server_default=""),
    # [{"kind": "BODY", "text": ..., "parameter_count": ...}, ...]
    Column("components", JSON, nullable=False),
    Column("sync_time", UTCDateTime, nullable=False),
    UniqueConstraint("channel_id", "template_name", "language"),
)
