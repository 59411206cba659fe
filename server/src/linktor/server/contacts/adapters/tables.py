"""Tables of the contacts context."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from linktor.server.infra.db.types import UTCDateTime, metadata

contacts = Table(
    "contacts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("email", String(320), nullable=False, server_default=""),
    Column("phone_number", String(32), nullable=False, server_default=""),
    Column("locale", String(35), nullable=False, server_default=""),
    Column("avatar_url", String(2048), nullable=False, server_default=""),
    Column("tags", JSON, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Index(None, "tenant_id", "display_name"),
)

# An address belongs to one contact per tenant: (tenant, channel type, address) is unique.
contact_identities = Table(
    "contact_identities",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("contact_id", String(64), ForeignKey("contacts.id"), nullable=False),
    Column("channel_type", String(16), nullable=False),
    Column("address", String(255), nullable=False),
    Column("channel_id", String(64), nullable=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("create_time", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "channel_type", "address"),
    Index(None, "contact_id"),
)
