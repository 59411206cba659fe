"""nats-server goes down in the middle of a burst and comes back: every accepted message is
delivered (the outbox and the sweepers bridge the gap), the provider sees each one once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from lktest.deployment import Deployment, StatusProbe, create_channel
from lktest.platform import provider_log
from lktest.private_services import PrivateServices
from lktest.sending import Sent, send_burst, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(300)]

MESSAGES = 600
DOWN_AFTER = 150
DOWN_SECONDS = 2.0


def test_nats_restart_mid_burst_loses_nothing(
    fault_platform: Deployment, restored: PrivateServices, fault_report: list[str]
) -> None:
    asyncio.run(_restart(fault_platform, restored, fault_report))


async def _restart(deploy: Deployment, services: PrivateServices, report: list[str]) -> None:
    channel = await create_channel(deploy)
    sent = Sent()
    burst = asyncio.create_task(
        send_burst(deploy, channel, MESSAGES, concurrency=16, tag="nats", sent=sent)
    )
    await wait_until(lambda: sent.accepted >= DOWN_AFTER or burst.done(), timeout=120)
    # The blocking script runs in a thread: the burst goes on meanwhile.
    await asyncio.to_thread(services.stop_nats)
    accepted_at_stop = sent.accepted
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(services.start_nats)
    accepted_while_down = sent.accepted - accepted_at_stop
    await burst
    # SendMessage writes to the database only: the bus being away refuses nothing.
    assert sent.accepted == MESSAGES, (sent.errors, sent.first_error)

    # Work items published while NATS was down come back through the sweeper (30 s).
    progress = await StatusProbe(deploy.database_url).wait_settled(
        channel.rsplit("/", 1)[-1], MESSAGES, timeout=180
    )
    assert progress.delivered == MESSAGES, progress
    log = Path(deploy.env["LINKTOR_FAKE_ADAPTER_LOG"])
    seen = Counter(
        str(r["message_id"])
        for r in provider_log(log)
        if r.get("op") == "send" and r.get("channel") == channel
    )
    assert set(seen) == set(sent.names)
    twice = sorted(name for name, count in seen.items() if count > 1)
    assert not twice, twice
    report.append(
        f"nats restart: {MESSAGES} accepted ({accepted_while_down} while nats-server was down"
        f" for {DOWN_SECONDS:g}s), all delivered, each sent to the provider once"
    )
