"""Adapter plugins: start, restart after kill -9, graceful stop, Send round trips and RSS.

Through the server's PluginHost (the same path the delivery workers take): the fake adapter
(Python, the no-op adapter of the send pipeline) and the Go example (go-plugin). Start = first
acquire() to READY (process spawn, handshake, health, GetCapabilities); restart = kill -9 to
READY again; Send latency = sequential calls with no provider latency; throughput = 64 calls in
flight from one asyncio client.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.testing import channel_config, go_build, text_message
from linktor.server.plugins.host import PluginHost
from linktor.server.plugins.state import AdapterState
from linktor.server.plugins.supervisor import SupervisionOptions
from linktor.v1 import common_pb2

ROOT = Path(__file__).resolve().parents[2]
FAKE = [sys.executable, "-m", "linktor.adapters.fake"]
WEBCHAT, SMS = common_pb2.CHANNEL_TYPE_WEBCHAT, common_pb2.CHANNEL_TYPE_SMS
STARTS = 5
RESTARTS = 3
SEQUENTIAL = 2000
CONCURRENT = 20000
IN_FLIGHT = 64
OPTIONS = SupervisionOptions(start_timeout=60, initial_backoff=0.05)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _request(channel_type: int, n: int) -> adapter_pb2.SendRequest:
    return adapter_pb2.SendRequest(
        channel=channel_config(channel_type, {}, {"webhook_secret": "s", "api_key": "k"}),
        message_id=f"tenants/bench/conversations/c1/messages/m{n}",
        recipient="+15550001",
        content=text_message("benchmark"),
        attempt=1,
    )


async def _start_stop(command: list[str], channel_type: int) -> tuple[list[float], list[float]]:
    starts, stops = [], []
    for _ in range(STARTS):
        host = PluginHost({channel_type: command}, options=OPTIONS, acquire_timeout=60)
        started = time.perf_counter()
        await host.acquire(channel_type)
        starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        await host.close()
        stops.append(time.perf_counter() - started)
    return starts, stops


async def _restarts(command: list[str], channel_type: int) -> list[float]:
    host = PluginHost({channel_type: command}, options=OPTIONS, acquire_timeout=60)
    ready = asyncio.Event()
    host.watch(lambda s: ready.set() if s.state is AdapterState.READY else None)
    times: list[float] = []
    try:
        handle = await host.acquire(channel_type)
        for _ in range(RESTARTS):
            assert handle.pid is not None
            ready.clear()
            killed = time.perf_counter()
            os.kill(handle.pid, signal.SIGKILL)
            await asyncio.wait_for(ready.wait(), 60)
            times.append(time.perf_counter() - killed)
            handle = await host.acquire(channel_type)
    finally:
        await host.close()
    return times


async def _sends(command: list[str], channel_type: int) -> dict[str, Any]:
    host = PluginHost({channel_type: command}, options=OPTIONS, acquire_timeout=60)
    try:
        handle = await host.acquire(channel_type)
        for n in range(200):  # warm up
            await handle.stub.Send(_request(channel_type, n), timeout=5)
        latencies = []
        for n in range(SEQUENTIAL):
            request = _request(channel_type, n)
            started = time.perf_counter()
            await (await host.acquire(channel_type)).stub.Send(request, timeout=5)
            latencies.append(time.perf_counter() - started)
        latencies.sort()
        queue = iter(range(CONCURRENT))

        async def client() -> None:
            for n in queue:
                await (await host.acquire(channel_type)).stub.Send(
                    _request(channel_type, n), timeout=10
                )

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter() - started
        assert handle.pid is not None
        rss = psutil.Process(handle.pid).memory_info().rss
        return {
            "send_p50_ms": _ms(latencies[len(latencies) // 2]),
            "send_p99_ms": _ms(latencies[int(len(latencies) * 0.99)]),
            "sends_per_second_64_in_flight": round(CONCURRENT / elapsed),
            "adapter_rss_mb": round(rss / 2**20, 1),
        }
    finally:
        await host.close()


async def _measure(command: list[str], channel_type: int) -> dict[str, Any]:
    starts, stops = await _start_stop(command, channel_type)
    restarts = await _restarts(command, channel_type)
    return {
        "start_ms_median": _ms(statistics.median(starts)),
        "start_ms_max": _ms(max(starts)),
        "graceful_stop_ms_median": _ms(statistics.median(stops)),
        "restart_after_kill9_ms_median": _ms(statistics.median(restarts)),
        **(await _sends(command, channel_type)),
    }


def main() -> dict[str, Any]:
    metrics: dict[str, Any] = {"python_fake_adapter": asyncio.run(_measure(FAKE, WEBCHAT))}
    with tempfile.TemporaryDirectory() as tmp:
        binary = go_build(ROOT / "adapters" / "examples" / "go-echo", Path(tmp) / "go-echo")
        metrics["go_echo_adapter"] = asyncio.run(_measure([str(binary)], SMS))
    return {
        "benchmark": "adapters",
        "description": __doc__.splitlines()[0] if __doc__ else "",
        "parameters": {
            "starts": STARTS,
            "restarts": RESTARTS,
            "sequential_sends": SEQUENTIAL,
            "concurrent_sends": CONCURRENT,
            "in_flight": IN_FLIGHT,
        },
        "metrics": metrics,
        "load_average": os.getloadavg(),
    }
