"""Language independence: the Go example (hashicorp/go-plugin) loaded by the Python host."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from lktest.adapters import FAST, SMS

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.testing import channel_config, go_build, text_message
from linktor.server.plugins.host import PluginHost
from linktor.server.plugins.state import AdapterState, AdapterStatus

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def go_echo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return go_build(
        ROOT / "adapters" / "examples" / "go-echo", tmp_path_factory.mktemp("go") / "go-echo"
    )


def send(message_id: str) -> adapter_pb2.SendRequest:
    return adapter_pb2.SendRequest(
        channel=channel_config(SMS, {}, {"api_key": "k"}),
        message_id=message_id,
        recipient="+15550001",
        content=text_message("hello from python"),
        attempt=1,
    )


async def test_the_host_loads_the_go_adapter_and_sends_through_it(go_echo: Path) -> None:
    host = PluginHost({SMS: [str(go_echo)]}, options=FAST, acquire_timeout=20)
    try:
        with structlog.testing.capture_logs() as logs:
            handle = await host.acquire(SMS)
            assert handle.capabilities.adapter_name == "go-echo"
            reply = await handle.stub.Send(send("m1"), timeout=5)
            await asyncio.sleep(0.2)  # let the stdio stream deliver
        assert reply.provider_message_id == "echo-m1"
        # hclog JSON on stderr and fmt.Printf through go-plugin's GRPCStdio both reach our logs.
        assert any(
            e["event"] == "echoing" and e.get("message_id") == "m1" and e["source"] == "stderr"
            for e in logs
        ), logs
        assert any(
            e["event"] == "echo m1: hello from python" and e["source"] == "stdio" for e in logs
        ), logs
    finally:
        await host.close()


async def test_a_killed_go_adapter_is_restarted(go_echo: Path) -> None:
    host = PluginHost({SMS: [str(go_echo)]}, options=FAST, acquire_timeout=20)
    ready = asyncio.Event()
    host.watch(lambda s: ready.set() if s.state is AdapterState.READY and s.restarts == 1 else None)
    seen: list[AdapterStatus] = []
    host.watch(seen.append)
    try:
        first = await host.acquire(SMS)
        assert first.pid is not None
        os.kill(first.pid, signal.SIGKILL)
        await asyncio.wait_for(ready.wait(), 20)
        second = await host.acquire(SMS)
        assert second.pid != first.pid
        assert (await second.stub.Send(send("m2"), timeout=5)).provider_message_id == "echo-m2"
    finally:
        await host.close()
    assert [s.state for s in seen] == [
        AdapterState.STARTING,
        AdapterState.READY,
        AdapterState.RESTARTING,
        AdapterState.READY,
        AdapterState.STOPPED,
    ]


def test_linktor_adapter_conformance_command(go_echo: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "linktor.server.cli",
            "adapter-conformance",
            "--secrets",
            '{"api_key": "k"}',
            "--",
            str(go_echo),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "conformant (12 passed)" in result.stdout
