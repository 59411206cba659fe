"""The outbox table."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Integer, LargeBinary, String, Table

from linktor.server.infra.db.types import UTCDateTime, metadata

# Transactional outbox: written in the same transaction as the change it announces, and
# relayed to the bus afterwards (DESIGN §4); the relay deletes the rows it published.
outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tenant_id", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    # De-duplication id on the bus (Nats-Msg-Id).
    Column("msg_id", String(128), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
)
