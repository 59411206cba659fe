"""Seeding outbound messages for status callbacks, and reading what processing stored.

Status callbacks only mean something for outbound messages that exist with a provider id. One
real message is sent through the API (creating its contact and conversation); it is then
cloned in SQL into ``count`` SENT messages with provider ids ``<prefix><n>`` — tens of
thousands in a second, where sending them would take minutes of the benchmark.

Everything is read straight from PostgreSQL (row-level security bypassed like the platform's
workers do) so that watching costs the server nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg
import grpc

from linktor.v1 import content_pb2, message_pb2, message_pb2_grpc

BYPASS_RLS = "SELECT set_config('linktor.bypass_rls', 'on', false)"
POLL_SECONDS = 0.25

_CLONE = """
INSERT INTO messages (
    id, tenant_id, conversation_id, seq, channel_id, contact_id, address, direction,
    sender_type, sender_name, sender_display_name, content, body_text, status,
    provider_message_id, metadata, attempt_count, create_time, update_time, send_time
)
SELECT
    $2 || g, tenant_id, conversation_id, seq + g, channel_id, contact_id, address, direction,
    sender_type, sender_name, sender_display_name, content, body_text, 'SENT',
    $2 || g, metadata, 1, create_time, update_time, update_time
FROM messages, generate_series(1, $3) AS g
WHERE id = $1
"""


class Database:
    """One asyncpg connection to the deployment's database."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url.replace("postgresql+asyncpg", "postgresql")
        self._conn: asyncpg.Connection | None = None

    async def conn(self) -> asyncpg.Connection:
        if self._conn is None:
            self._conn = await asyncpg.connect(self._url)
            await self._conn.execute(BYPASS_RLS)
        return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def seed(
        self,
        target: str,
        metadata: tuple[tuple[str, str], ...],
        channel: str,
        prefix: str,
        count: int,
    ) -> None:
        """``count`` SENT outbound messages on ``channel`` with provider ids ``prefix<n>``."""
        async with grpc.aio.insecure_channel(target) as rpc:
            sent = await message_pb2_grpc.MessageServiceStub(rpc).SendMessage(
                message_pb2.SendMessageRequest(
                    recipient=message_pb2.Recipient(channel=channel, address="+15559990000"),
                    content=content_pb2.MessageContent(
                        text=content_pb2.TextContent(body="status callback target")
                    ),
                    request_id=f"{prefix}template",
                ),
                metadata=metadata,
                timeout=60,
            )
        template = sent.name.rsplit("/", 1)[-1]
        conn = await self.conn()
        await conn.execute(_CLONE, template, prefix, count)

    async def counts(self, channel_id: str, prefix: str) -> tuple[int, int]:
        """(seeded messages READ, inbound messages stored) on the channel."""
        conn = await self.conn()
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE direction = 'OUTBOUND' AND status = 'READ'"
            "   AND provider_message_id LIKE $2 || '%'),"
            " count(*) FILTER (WHERE direction = 'INBOUND')"
            " FROM messages WHERE channel_id = $1",
            channel_id,
            prefix,
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def outbox_rows(self) -> int:
        conn = await self.conn()
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))

    async def wait_processed(
        self,
        channel_id: str,
        prefix: str,
        reads: int,
        inbound: int,
        timeout: float,  # noqa: ASYNC109 - a polling deadline
    ) -> tuple[int, int]:
        """Poll until every seeded message is READ and every inbound message is stored."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            got = await self.counts(channel_id, prefix)
            if (got[0] >= reads and got[1] >= inbound) or loop.time() > deadline:
                return got
            await asyncio.sleep(POLL_SECONDS)

    async def wait_outbox_empty(self, timeout: float) -> bool:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not await self.outbox_rows():
                return True
            await asyncio.sleep(POLL_SECONDS)
        return False

    async def stored_times(self, channel_id: str, prefix: str) -> dict[str, float]:
        """provider id -> when processing stored it (epoch seconds): read_time of the seeded
        messages (their READ callbacks carry no time, so it is the processing time), and
        create_time of inbound messages."""
        conn = await self.conn()
        rows = await conn.fetch(
            "SELECT provider_message_id, coalesce(read_time, create_time) AS at FROM messages"
            " WHERE channel_id = $1"
            " AND (direction = 'INBOUND' OR provider_message_id LIKE $2 || '%')",
            channel_id,
            prefix,
        )
        return {str(r[0]): _epoch(r[1]) for r in rows if r[1] is not None}

    async def inbound_order(self, channel_id: str) -> list[tuple[str, str, int]]:
        """(sender address, provider id, seq) of inbound messages, by conversation and seq."""
        conn = await self.conn()
        rows = await conn.fetch(
            "SELECT address, provider_message_id, seq FROM messages"
            " WHERE channel_id = $1 AND direction = 'INBOUND' ORDER BY conversation_id, seq",
            channel_id,
        )
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def _epoch(value: datetime) -> float:
    return value.timestamp()
