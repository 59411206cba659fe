"""Tables of the webhooks context: endpoints, deliveries (the durable queue and the log) and
their attempts. Every row carries its tenant (row-level security, migration 0005)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
    false,
)

from linktor.server.infra.db.types import UTCDateTime, metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    # Event type patterns (JSON list); empty: every event.
    Column("event_types", JSON, nullable=False),
    Column("description", String(1024), nullable=False, server_default=""),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("disabled_reason", String(256), nullable=False, server_default=""),
    # Extra request headers (JSON object).
    Column("headers", JSON, nullable=False),
    Column("rate_per_second", Float, nullable=False, server_default="0"),
    Column("rate_burst", Integer, nullable=False, server_default="0"),
    # Delays in seconds between attempts after the first (JSON list); empty: the platform's.
    Column("retry_schedule", JSON, nullable=False),
    # Signing secrets, sealed by the SecretBox (bound to the endpoint's name).
    Column("secret_ciphertext", LargeBinary, nullable=False),
    Column("previous_secret_ciphertext", LargeBinary, nullable=True),
    Column("previous_secret_expire_time", UTCDateTime, nullable=True),
    # Since when every attempt failed; NULL after a success.
    Column("failing_since", UTCDateTime, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Index(None, "tenant_id", "disabled"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("endpoint_id", String(64), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("webhook_id", String(128), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("event_sequence", BigInteger, nullable=False),
    # Fan-out deliveries: the event's sequence, so a redelivered bus message does not make a
    # second delivery; NULL for replays and tests (NULLs never collide in a unique key).
    Column("dedupe_key", String(64), nullable=True),
    # The request body (JSON), fixed when the delivery is made.
    Column("body", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    Column("next_attempt_time", UTCDateTime, nullable=True),
    # A worker holds the delivery until then (no other worker sends it meanwhile).
    Column("lease_until", UTCDateTime, nullable=True),
    Column("retries", Boolean, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    UniqueConstraint("endpoint_id", "dedupe_key"),
    # The workers' queue: due pending deliveries, oldest due first.
    Index(None, "state", "next_attempt_time"),
    # The log: an endpoint's deliveries, newest first (ids are time-ordered).
    Index(None, "endpoint_id", "id"),
    # Housekeeping: finished deliveries past the log's retention.
    Index(None, "state", "update_time"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(64), ForeignKey("webhook_deliveries.id"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("start_time", UTCDateTime, nullable=False),
    Column("http_status", Integer, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    # The first 4 KiB of the response body.
    Column("response_body", Text, nullable=False, server_default=""),
    Column("error", Text, nullable=False, server_default=""),
)
