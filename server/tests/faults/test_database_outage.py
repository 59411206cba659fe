"""PostgreSQL stops: SendMessage fails fast with UNAVAILABLE (no hang) and leaves nothing
behind; once PostgreSQL is back, sends succeed, the same request_ids included, and what was
accepted before the outage is delivered."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from lktest.deployment import Deployment, StatusProbe, create_channel
from lktest.private_services import PrivateServices
from lktest.sending import send_burst, text_request

from linktor.v1 import message_pb2, message_pb2_grpc

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(300)]

# How long a refused SendMessage may take while the database is down.
FAIL_FAST_SECONDS = 10.0
OUTAGE_CALLS = 10
RECOVERY_SECONDS = 60.0


def test_database_outage_fails_fast_then_recovers(
    fault_platform: Deployment, restored: PrivateServices, fault_report: list[str]
) -> None:
    asyncio.run(_outage(fault_platform, restored, fault_report))


async def _outage(deploy: Deployment, services: PrivateServices, report: list[str]) -> None:
    channel = await create_channel(deploy)
    channel_id = channel.rsplit("/", 1)[-1]
    before = await send_burst(deploy, channel, 20, concurrency=4, tag="before")
    assert before.accepted == 20, before.first_error

    def outage_request(n: int) -> message_pb2.SendMessageRequest:
        return text_request(channel, f"+1666{n:07d}", f"during the outage {n}", f"outage-{n}")

    async with grpc.aio.insecure_channel(deploy.grpc_target) as conn:
        stub = message_pb2_grpc.MessageServiceStub(conn)

        async def refused(n: int) -> float:
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.SendMessage(outage_request(n), metadata=deploy.metadata, timeout=60)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value.details()
            return time.monotonic() - started

        services.stop_pg("fast")
        try:
            # One at a time, then all at once (the pool must not queue them into a hang).
            durations = [await refused(0)]
            durations += await asyncio.gather(*(refused(n) for n in range(1, OUTAGE_CALLS)))
        finally:
            services.start_pg()
        assert max(durations) < FAIL_FAST_SECONDS, durations

        # Back: the first sends may still meet connections of the dead server; within a
        # bounded time they succeed.
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:
            try:
                await stub.SendMessage(
                    text_request(channel, "+16669999999", "after", "after-0"),
                    metadata=deploy.metadata,
                    timeout=30,
                )
                break
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        recovered_after = RECOVERY_SECONDS - (deadline - time.monotonic())

        # Nothing of the refused calls was stored: not a message, not an idempotency key.
        probe = StatusProbe(deploy.database_url)
        keys = [f"outage-{n}" for n in range(OUTAGE_CALLS)]
        stored = await probe.rows(
            "SELECT count(*) FROM messages WHERE channel_id = ? AND request_id LIKE 'outage-%'",
            channel_id,
        )
        assert stored == [(0,)]
        idempotency = await probe.rows(
            "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'outage-%'"
        )
        assert idempotency == [(0,)]
        # The same calls now succeed, once each.
        answers = [
            await stub.SendMessage(outage_request(n), metadata=deploy.metadata, timeout=30)
            for n in range(OUTAGE_CALLS)
        ]
        assert len({a.name for a in answers}) == len(keys)

    expected = 20 + 1 + OUTAGE_CALLS
    progress = await probe.wait_settled(channel_id, expected, timeout=120)
    assert progress.delivered == expected, progress
    report.append(
        f"database outage: {OUTAGE_CALLS} sends refused with UNAVAILABLE in at most "
        f"{max(durations):.2f}s each; sends succeeded again {recovered_after:.1f}s after restart"
    )
