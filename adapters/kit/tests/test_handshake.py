"""The plugin side (serve) and the host side (launcher) of the handshake, over real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import protocol
from linktor.adapterkit.launcher import LaunchError, LaunchOptions, PluginLog, launch
from linktor.adapterkit.testing import channel_config, launch_adapter, text_message
from linktor.v1 import common_pb2

pytestmark = pytest.mark.integration

PLUGIN = str(Path(__file__).parent / "plugins" / "echo_plugin.py")


def command(mode: str) -> list[str]:
    return [sys.executable, PLUGIN, mode]


async def test_launch_send_and_graceful_stop() -> None:
    logs: list[PluginLog] = []
    plugin = await launch(command("ok"), LaunchOptions(on_log=logs.append))
    assert plugin.handshake.network == "tcp"
    assert plugin.handshake.address.startswith("127.0.0.1:")
    assert await plugin.health() == 1  # SERVING
    reply = await plugin.stub.Send(
        adapter_pb2.SendRequest(
            channel=channel_config(common_pb2.CHANNEL_TYPE_SMS),
            message_id="m1",
            recipient="+1",
            content=text_message("hi"),
        ),
        timeout=5,
    )
    assert reply.provider_message_id == "echo-m1"
    started = time.monotonic()
    assert await plugin.stop() == "graceful"
    assert time.monotonic() - started < 2
    assert plugin.returncode == 0
    structured = [entry for entry in logs if entry.message == "sending"]
    assert structured and structured[0].level == "info"
    assert structured[0].fields["message_id"] == "m1"
    assert structured[0].fields["module"] == "echo"
    # A print after the handshake lands on stderr as a raw line.
    assert any(
        e.source == "stderr" and e.message == "stray print after the handshake" for e in logs
    )


async def test_the_port_range_is_honoured() -> None:
    low = 20000 + os.getpid() % 20000
    async with launch_adapter(
        command("ok"), env={"PLUGIN_MIN_PORT": str(low), "PLUGIN_MAX_PORT": str(low + 50)}
    ) as plugin:
        port = int(plugin.handshake.address.rsplit(":", 1)[1])
        assert low <= port <= low + 50


def test_run_by_hand_it_explains_itself() -> None:
    env = {k: v for k, v in os.environ.items() if k != protocol.MAGIC_COOKIE_KEY}
    result = subprocess.run(command("ok"), env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "not meant to be run by hand" in result.stderr
    assert f"linktor adapter-conformance -- python {PLUGIN} ok" in result.stderr


async def test_a_line_that_is_not_a_handshake_is_refused() -> None:
    with pytest.raises(
        LaunchError, match="unrecognized plugin handshake line 'Starting my adapter"
    ):
        await launch(command("garbage"))


async def test_exiting_before_the_handshake_reports_status_and_stderr() -> None:
    with pytest.raises(LaunchError) as info:
        await launch(command("exit"))
    assert "exited (status 3) before printing its handshake line" in str(info.value)
    assert info.value.stderr_tail == ["config file /etc/echo.toml not found"]


async def test_silence_times_out() -> None:
    started = time.monotonic()
    with pytest.raises(LaunchError, match=r"no handshake line within 0\.5 s"):
        await launch(command("silent"), LaunchOptions(start_timeout=0.5))
    assert time.monotonic() - started < 3


async def test_an_unknown_command_is_a_launch_error() -> None:
    with pytest.raises(LaunchError, match="cannot start adapter"):
        await launch(["/nonexistent/adapter-binary"])


async def test_version_mismatch_is_reported_by_the_host() -> None:
    with pytest.raises(LaunchError, match=r"app protocol version 1, this host offers \[2\]"):
        await launch(command("ok"), LaunchOptions(app_versions=(2,)))


async def test_a_plugin_ignoring_shutdown_and_sigterm_is_killed() -> None:
    plugin = await launch(command("stubborn"))
    outcome = await plugin.stop(shutdown_timeout=0.5, exit_timeout=0.2, term_timeout=0.3)
    assert outcome == "killed"
    assert plugin.returncode == -9


async def test_an_orphaned_plugin_exits_on_its_own() -> None:
    env = protocol.plugin_environment()
    result = await asyncio.to_thread(
        subprocess.run,
        command("spawn-and-die"),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    pid = int(result.stdout.strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        await asyncio.sleep(0.1)
    else:
        psutil.Process(pid).kill()
        pytest.fail("the orphaned plugin kept running")


async def test_a_wrapper_process_between_host_and_plugin_is_fine() -> None:
    wrapped = ["sh", "-c", f"'{sys.executable}' '{PLUGIN}' ok; true"]
    async with launch_adapter(wrapped) as plugin:
        await asyncio.sleep(1.5)  # longer than the parent watch period
        assert await plugin.health() == 1


async def test_a_plugin_whose_host_is_already_gone_stops() -> None:
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    env = {**protocol.plugin_environment(), "LINKTOR_ADAPTER_HOST_PID": str(dead.pid)}
    plugin = await asyncio.create_subprocess_exec(
        *command("ok"), env=env, stdout=asyncio.subprocess.PIPE
    )
    assert plugin.stdout is not None
    assert (await asyncio.wait_for(plugin.stdout.readline(), 30)).startswith(b"1|1|tcp|")
    assert await asyncio.wait_for(plugin.wait(), 10) == 0


async def test_a_plugin_exiting_right_after_the_handshake_fails_the_launch_fast() -> None:
    started = time.monotonic()
    with pytest.raises(LaunchError, match=r"after the handshake: the adapter exited \(status 0\)"):
        await launch(command("lie-and-exit"), LaunchOptions(start_timeout=30))
    assert time.monotonic() - started < 8
