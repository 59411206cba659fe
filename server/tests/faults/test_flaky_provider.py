"""A provider failing 30% of Sends (10% errors, 10% 429 with retry_after, 10% timeouts):
every message is eventually delivered, and the attempt log (GetMessage, view FULL) shows
exponential backoff and the provider's retry_after honoured."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from lktest.deployment import Deployment, StatusProbe, create_channel
from lktest.sending import send_burst

from linktor.v1 import message_pb2, message_pb2_grpc

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(300)]

MESSAGES = 200
RETRY_AFTER = 0.5
FLAKY = {
    "failure_rate": 0.1,
    "throttle_rate": 0.1,
    "retry_after_ms": RETRY_AFTER * 1000,
    "timeout_rate": 0.1,
    "timeout_ms": 200,
}
# The platform's retry policy in these tests (conftest FAST_RETRIES).
BASE, MAX_DELAY = 0.2, 2.0
# Timestamps are stored to the microsecond and durations to the millisecond.
SLACK = 0.005


def _seconds(value: Timestamp | Duration) -> float:
    return value.seconds + value.nanos / 1e9


def test_flaky_provider_delivers_everything_with_backoff(
    fault_platform: Deployment, fault_report: list[str]
) -> None:
    asyncio.run(_flaky(fault_platform, fault_report))


async def _flaky(deploy: Deployment, report: list[str]) -> None:
    channel = await create_channel(deploy, FLAKY)
    sent = await send_burst(deploy, channel, MESSAGES, concurrency=16, tag="flaky", recipients=50)
    assert sent.accepted == MESSAGES, sent.first_error
    progress = await StatusProbe(deploy.database_url).wait_settled(
        channel.rsplit("/", 1)[-1], MESSAGES, timeout=180
    )
    assert progress.delivered == MESSAGES, progress

    async with grpc.aio.insecure_channel(deploy.grpc_target) as conn:
        stub = message_pb2_grpc.MessageServiceStub(conn)
        messages = await asyncio.gather(
            *(
                stub.GetMessage(
                    message_pb2.GetMessageRequest(name=name, view=message_pb2.MESSAGE_VIEW_FULL),
                    metadata=deploy.metadata,
                )
                for name in sent.names
            )
        )
    codes: Counter[str] = Counter()
    throttled = backed_off = 0
    for message in messages:
        attempts = list(message.attempts)
        assert [a.number for a in attempts] == list(range(1, len(attempts) + 1)), message.name
        assert attempts[-1].outcome == message_pb2.ATTEMPT_OUTCOME_SUCCEEDED, message.name
        for attempt, following in itertools.pairwise(attempts):
            assert attempt.outcome == message_pb2.ATTEMPT_OUTCOME_RETRYING, message.name
            assert attempt.error.retryable
            codes[attempt.error.code] += 1
            ended = _seconds(attempt.start_time) + _seconds(attempt.duration)
            scheduled = _seconds(attempt.next_attempt_time)
            wait = scheduled - ended
            # Backoff with full jitter: at least half the exponential step, at most the cap
            # (or the provider's retry_after when that is longer).
            step = min(MAX_DELAY, BASE * 2 ** (attempt.number - 1))
            retry_after = _seconds(attempt.retry_after)
            assert wait >= min(step / 2, MAX_DELAY / 2) - SLACK, (message.name, attempt)
            assert wait <= max(step, retry_after) + 0.5, (message.name, attempt)
            if retry_after:
                throttled += 1
                assert retry_after == pytest.approx(RETRY_AFTER)
                assert wait >= RETRY_AFTER - SLACK, (message.name, attempt)
            else:
                backed_off += 1
            # The next attempt never starts before its time.
            assert _seconds(following.start_time) >= scheduled - SLACK, (message.name, following)
    retried = sum(1 for m in messages if len(m.attempts) > 1)
    # 30% of attempts fail: about 60 of 200 messages need a retry; far fewer means the
    # knobs did not apply.
    assert retried >= MESSAGES // 10, retried
    assert {"RATE_LIMITED", "PROVIDER_ERROR", "TIMEOUT"} <= set(codes), codes
    assert throttled and backed_off
    most = max(len(m.attempts) for m in messages)
    report.append(
        f"flaky provider: {MESSAGES} delivered; {retried} needed retries "
        f"(failed attempts by code {dict(codes)}, at most {most} attempts for one message)"
    )
