"""kill -9 of the `linktor worker` doing the deliveries, in the middle of 2,000 sends (the
servers run without workers), then a restart: every message ends DELIVERED, and the provider
saw each message once, except the crash window.

The crash window: the provider accepted a message but the killed worker had not stored that
yet (results are written in batches, after the Send). Nothing records that the Send happened,
so the message is sent again once its lease expires. Each such repeat must be a message the
killed worker sent before the kill, sent once more after it, never a third time.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

import pytest
from lktest.deployment import (
    Deployment,
    StatusProbe,
    create_channel,
    deployment,
    recording_provider,
)
from lktest.platform import provider_log
from lktest.private_services import private_services
from lktest.sending import Sent, send_burst, wait_until

# Most of the time is the 60 s lease of the killed worker's claims.
pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(420)]

MESSAGES = 2_000
# The worker is killed once the provider has seen this many Sends.
KILL_AFTER_SENDS = 400
# At most this many Sends can be in flight in one worker (its delivery concurrency).
IN_FLIGHT_BOUND = 256
# Leases of the killed worker's claims expire after 60 s; then their messages go again.
SETTLE_SECONDS = 240


def test_worker_killed_mid_burst_delivers_everything_once(
    tmp_path: Path, fault_report: list[str]
) -> None:
    log = tmp_path / "provider.jsonl"
    # A set of its own: another deployment's workers on the same NATS would take this one's
    # work items (stream and consumer names are per installation, not per database).
    with (
        private_services("lk-crash-") as services,
        deployment(
            "scaled",
            tmp_path,
            services=services,
            topology="split",
            adapter=recording_provider(log, latency_ms="2"),
        ) as deploy,
    ):
        asyncio.run(_crash(deploy, log, fault_report))


async def _crash(deploy: Deployment, log: Path, report: list[str]) -> None:
    assert deploy.worker is not None
    channel = await create_channel(deploy)

    def sends() -> list[dict[str, object]]:
        return [
            r for r in provider_log(log) if r.get("op") == "send" and r.get("channel") == channel
        ]

    sent = Sent()
    burst = asyncio.create_task(
        send_burst(deploy, channel, MESSAGES, concurrency=32, tag="crash", sent=sent)
    )
    await wait_until(lambda: len(sends()) >= KILL_AFTER_SENDS or burst.done(), timeout=180)
    killed_at = time.time()
    deploy.worker.kill()
    await asyncio.to_thread(deploy.worker.start)
    await burst
    assert sent.accepted == MESSAGES, (sent.errors, sent.first_error)

    progress = await StatusProbe(deploy.database_url).wait_settled(
        channel.rsplit("/", 1)[-1], MESSAGES, timeout=SETTLE_SECONDS
    )
    assert progress.delivered == MESSAGES, progress

    by_message: dict[str, list[dict[str, object]]] = defaultdict(list)
    for record in sends():
        by_message[str(record["message_id"])].append(record)
    assert set(by_message) == set(sent.names)
    before = [r for r in sends() if float(r["time"]) < killed_at]  # type: ignore[arg-type]
    killed_pids = {r["pid"] for r in before}
    window = {name: records for name, records in by_message.items() if len(records) > 1}
    for name, records in window.items():
        first, *again = sorted(records, key=lambda r: float(r["time"]))  # type: ignore[arg-type]
        assert len(again) == 1, (name, records)
        # By the killed worker's adapter: its log line may follow the kill by a moment (a
        # Send the worker made just before dying is still answered by the orphaned adapter).
        assert first["pid"] in killed_pids, (name, records)
        assert again[0]["pid"] not in killed_pids, (name, records)
    assert len(window) <= IN_FLIGHT_BOUND, len(window)
    report.append(
        f"worker kill -9: {MESSAGES} delivered; the provider had {len(before)} Sends before the"
        f" kill; crash window (sent by the killed worker, not yet recorded, sent again):"
        f" {len(window)} message(s)"
    )
