"""The plugin host with real adapter processes: lazy start, reuse, failures, health, stop."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import replace

import psutil
import pytest
import structlog
from lktest.adapters import FAKE_ADAPTER, FAST, PROGRAMS, SMS, WEBCHAT, fake_send

from linktor.server.plugins.host import PluginHost
from linktor.server.plugins.state import AdapterState, AdapterStatus
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, Unavailable
from linktor.v1 import common_pb2

pytestmark = pytest.mark.integration


async def test_starts_lazily_once_and_reuses_the_process(
    host: PluginHost, observed: list[AdapterStatus]
) -> None:
    assert host.statuses() == []
    handles = await asyncio.gather(*(host.acquire(WEBCHAT) for _ in range(5)))
    assert len({h.pid for h in handles}) == 1
    handle = handles[0]
    assert handle.capabilities.adapter_name == "linktor-fake"
    reply = await handle.stub.Send(fake_send(), timeout=5)
    assert reply.provider_message_id.startswith("fk_")
    assert (await host.acquire(WEBCHAT)).pid == handle.pid
    assert [s.state for s in observed] == [AdapterState.STARTING, AdapterState.READY]
    assert observed[-1].pid == handle.pid
    assert host.statuses()[0].key == "WEBCHAT"


async def test_close_stops_adapters_gracefully(
    observed: list[AdapterStatus], host: PluginHost
) -> None:
    pid = (await host.acquire(WEBCHAT)).pid
    assert pid is not None
    started = time.monotonic()
    await host.close()
    assert time.monotonic() - started < 3
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert observed[-1].state is AdapterState.STOPPED
    with pytest.raises(Unavailable):
        await host.acquire(WEBCHAT)


async def test_unknown_and_missing_channel_types(host: PluginHost) -> None:
    with pytest.raises(FailedPrecondition, match="no adapter serves TELEGRAM channels"):
        await host.acquire(common_pb2.CHANNEL_TYPE_TELEGRAM)
    with pytest.raises(InvalidArgument):
        await host.acquire(0)


async def test_a_command_that_cannot_start_is_unavailable_and_retried() -> None:
    host = PluginHost({SMS: ["/nonexistent/sms-adapter"]}, options=FAST, acquire_timeout=0.3)
    seen: list[AdapterStatus] = []
    host.watch(seen.append)
    try:
        with pytest.raises(Unavailable, match="the SMS adapter is not ready") as info:
            await host.acquire(SMS)
        assert info.value.metadata["state"] == "restarting"
        assert "cannot start adapter" in host.statuses()[0].reason
        await asyncio.sleep(0.5)
        assert any(s.state is AdapterState.RESTARTING for s in seen)
    finally:
        await host.close()


async def test_an_adapter_serving_another_channel_type_is_refused() -> None:
    options = replace(FAST, env={"LINKTOR_FAKE_CHANNEL_TYPE": "sms"})
    host = PluginHost({WEBCHAT: FAKE_ADAPTER}, options=options, acquire_timeout=3)
    try:
        with pytest.raises(Unavailable, match="serves SMS, but is registered for WEBCHAT"):
            await host.acquire(WEBCHAT)
    finally:
        await host.close()


async def test_an_unhealthy_adapter_is_killed_and_restarted() -> None:
    options = replace(FAST, unhealthy_after=2)
    host = PluginHost(
        {SMS: [sys.executable, str(PROGRAMS / "flaky_health.py")]},
        options=options,
        acquire_timeout=10,
    )
    seen: list[AdapterStatus] = []
    restarted = asyncio.Event()

    def observe(status: AdapterStatus) -> None:
        seen.append(status)
        if status.state is AdapterState.RESTARTING:
            restarted.set()

    host.watch(observe)
    try:
        first = await host.acquire(SMS)
        await asyncio.wait_for(restarted.wait(), 10)
        restarting = [s for s in seen if s.state is AdapterState.RESTARTING]
        assert restarting and restarting[0].reason.startswith("unhealthy: health is NOT_SERVING")
        second = await host.acquire(SMS)
        assert second.pid != first.pid
        assert host.statuses()[0].restarts >= 1
    finally:
        await host.close()


async def test_async_observers_run_without_blocking_the_host(host: PluginHost) -> None:
    seen: list[AdapterState] = []

    async def slow_observer(status: AdapterStatus) -> None:
        await asyncio.sleep(0.05)
        seen.append(status.state)

    host.watch(slow_observer)
    unsubscribe_me: list[AdapterStatus] = []
    host.watch(unsubscribe_me.append)()
    await host.acquire(WEBCHAT)
    await asyncio.sleep(0.2)
    assert seen == [AdapterState.STARTING, AdapterState.READY]
    assert unsubscribe_me == []


async def test_adapter_output_reaches_the_server_logs(host: PluginHost) -> None:
    with structlog.testing.capture_logs() as logs:
        handle = await host.acquire(WEBCHAT)
        await host.close()
    # The kit logs "shutdown requested by the host" as a go-hclog JSON line on stderr; the
    # host turns it into a structured record naming the adapter and its process.
    records = [e for e in logs if e["event"] == "shutdown requested by the host"]
    assert records, logs
    assert records[0]["adapter"] == "WEBCHAT"
    assert records[0]["pid"] == handle.pid
    assert records[0]["source"] == "stderr"
    assert records[0]["module"] == "linktor.adapterkit.serve"
    assert records[0]["log_level"] == "info"
