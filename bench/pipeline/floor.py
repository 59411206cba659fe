"""The floor of the scaled pipeline: per message, one INSERT of a message row (asyncpg, its
own transaction) and one JetStream publish with ack (nats-py), with the same concurrency as
the pipeline run and on the same PostgreSQL and NATS.

The row is a copy of a row the pipeline stored (same columns, sizes and indexes, in a table
made LIKE messages); the publish goes to a stream configured like LINKTOR_OUTBOUND (file
storage, work queue, duplicate window) with a Nats-Msg-Id, like the relay's. This is the
least any design must do to accept a message durably and hand it to a worker.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import nats
from lktest.deployment import BYPASS_RLS
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from bench.pipeline.load import percentile

STREAM = "BENCH_FLOOR"
SUBJECT = "bench.floor.work"


async def _template_row(conn: asyncpg.Connection) -> dict[str, Any]:
    await conn.execute(BYPASS_RLS)
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_floor"
        " (LIKE messages INCLUDING DEFAULTS INCLUDING INDEXES)"
    )
    row = await conn.fetchrow(
        "SELECT * FROM messages WHERE direction = 'OUTBOUND' ORDER BY create_time LIMIT 1"
    )
    if row is None:
        raise RuntimeError("the floor copies a message row: run the pipeline first")
    return dict(row)


async def measure_floor(
    database_url: str, nats_url: str, messages: int, concurrency: int
) -> dict[str, Any]:
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    setup = await asyncpg.connect(dsn)
    try:
        template = await _template_row(setup)
    finally:
        await setup.close()
    columns = list(template)
    insert = (
        f"INSERT INTO bench_floor ({', '.join(columns)}) "
        f"VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})"
    )
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=10)
    await js.add_stream(
        StreamConfig(
            name=STREAM,
            subjects=[f"{SUBJECT}.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=120,
        )
    )
    # A work item of the same size as the relay's.
    payload = json.dumps({"t": "t" * 22, "m": "m" * 26, "c": "c" * 26}).encode()
    latencies: list[float] = []
    numbers = iter(range(messages))

    async def worker() -> None:
        for n in numbers:
            started = time.perf_counter()
            # Unique where the table is: id, request id, (conversation, seq), provider id.
            values = dict(
                template,
                id=f"floor{n:021d}",
                request_id=f"floor-{n}",
                seq=n + 1,
                provider_message_id=None,
            )
            await pool.execute(insert, *values.values())
            await js.publish(f"{SUBJECT}.c1", payload, headers={"Nats-Msg-Id": values["id"]})
            latencies.append(time.perf_counter() - started)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await js.delete_stream(STREAM)
        await nc.close()
        async with pool.acquire() as conn:
            await conn.execute("DROP TABLE IF EXISTS bench_floor")
        await pool.close()
    latencies.sort()
    return {
        "messages": messages,
        "concurrency": concurrency,
        "per_second": round(messages / elapsed),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }
