"""The idempotency_keys table."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from linktor.server.infra.db.types import UTCDateTime, metadata

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    # The operation the key belongs to, for example "SendMessage".
    Column("scope", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    # Hash of the request body: the same key with another body is refused (AIP-155).
    Column("request_hash", String(64), nullable=False),
    # The resource the first call created.
    Column("resource_name", String(512), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False),
    Index(None, "expire_time"),
)
