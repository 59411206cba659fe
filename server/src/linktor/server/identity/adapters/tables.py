"""Tables of the identity context."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from linktor.server.infra.db.types import UTCDateTime, metadata

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("suspend_reason", Text, nullable=False, server_default=""),
    Column("plan", String(32), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
)

# A person: one per email on the installation. Their role per tenant is a membership.
users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id"), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.id"), primary_key=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("role", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("last_login_time", UTCDateTime, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Index(None, "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("display_name", String(200), nullable=False, server_default=""),
    # The visible start of the secret; the lookup key for authentication.
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("previous_secret_hash", String(128), nullable=True),
    Column("previous_secret_expire_time", UTCDateTime, nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("expire_time", UTCDateTime, nullable=True),
    Column("last_use_time", UTCDateTime, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("revoke_time", UTCDateTime, nullable=True),
    Column("creator", String(200), nullable=False, server_default=""),
    Index(None, "tenant_id", "create_time"),
)
