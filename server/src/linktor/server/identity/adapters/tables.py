"""Tables of the identity context."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

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

# Single-use refresh tokens, grouped in families (one per login); stored as SHA-256 hashes.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("family_id", String(64), nullable=False),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False),
    Column("use_time", UTCDateTime, nullable=True),
    Column("revoke_time", UTCDateTime, nullable=True),
    Index(None, "family_id"),
    Index(None, "tenant_id", "user_id"),
)

# One-time password setup tokens (invitations, resets), keyed by the person; the tenant is
# the one whose owner or admin issued it. Stored as SHA-256 hashes only.
password_setups = Table(
    "password_setups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("creator", String(200), nullable=False, server_default=""),
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False),
    Column("use_time", UTCDateTime, nullable=True),
    Column("revoke_time", UTCDateTime, nullable=True),
    Index(None, "user_id"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("resource", String(512), nullable=False),
    Column("success", Boolean, nullable=False),
    Column("client_address", String(128), nullable=False, server_default=""),
    Column("details", JSON, nullable=False),
    Index(None, "tenant_id", "create_time", "id"),
)

# Credentials of platform operators (installation-wide, no tenant).
operator_keys = Table(
    "operator_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("revoke_time", UTCDateTime, nullable=True),
)

# Metered plan usage (messages per month ...), one row per tenant, metric and period.
usage_counters = Table(
    "usage_counters",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id"), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("value", BigInteger, nullable=False, server_default="0"),
    Column("update_time", UTCDateTime, nullable=False),
)
