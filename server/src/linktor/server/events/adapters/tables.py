"""Tables of the events context: the per-tenant event log and its sequence counters."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    false,
)

from linktor.server.infra.db.types import UTCDateTime, metadata

# The last sequence number given to each tenant's events (one row per tenant, updated in
# the transaction that stores the event, so numbers have no gaps and never repeat).
event_sequences = Table(
    "event_sequences",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id"), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id"), primary_key=True),
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    # Resource the event is about (for per-conversation filters).
    Column("subject_name", String(512), nullable=False, server_default=""),
    # linktor.v1.Event, serialized.
    Column("payload", LargeBinary, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    # Whether the event reached the bus; a sweeper republishes events that did not.
    Column("published", Boolean, nullable=False, server_default=false()),
    Index(None, "create_time"),
    Index(None, "published", "create_time"),
)
