"""The host side of the handshake: start an adapter process and connect to it.

Used by the server's plugin host (which adds supervision: restarts, health watching), the
conformance suite and tests. One :func:`launch` call is one process:

1. spawn the command in its own session (a Ctrl-C in the host's terminal does not reach it)
   with the handshake environment (:func:`protocol.plugin_environment`);
2. read the handshake line from stdout (bounded by ``start_timeout``; if the process exits
   first, the error carries its last stderr lines);
3. connect, wait until the channel is ready, and require health ``plugin`` SERVING;
4. keep reading stderr, the rest of stdout, and go-plugin's GRPCStdio stream (Go plugins
   write there once serving; unread, that stream would eventually block them) as log lines.

:meth:`PluginProcess.stop` is go-plugin's ``Kill``: ``GRPCController.Shutdown``, a bounded
wait, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import grpc
from google.protobuf import empty_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hashicorp.goplugin import (
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    grpc_stdio_pb2,
    grpc_stdio_pb2_grpc,
)

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.adapterkit import protocol

MAX_MESSAGE_BYTES = 32 * 1024 * 1024
_STDERR_TAIL_LINES = 20
_PIPE_LIMIT = 1024 * 1024
_HCLOG_LEVELS = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
}

StopOutcome = Literal["exited", "graceful", "terminated", "killed"]


# How long release() lets in-flight calls fail on their own before cancelling them.
RELEASE_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class PluginLog:
    """One line an adapter wrote: ``source`` is stderr, stdout or stdio (GRPCStdio)."""

    source: str
    level: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)


LogSink = Callable[[PluginLog], None]


def parse_log_line(line: str, source: str) -> PluginLog:
    """A go-hclog JSON line becomes a structured record; anything else stays raw text."""
    text = line.rstrip("\r\n")
    if text.startswith("{") and '"@message"' in text:
        try:
            entry = json.loads(text)
        except ValueError:
            entry = None
        if isinstance(entry, dict):
            level = _HCLOG_LEVELS.get(str(entry.pop("@level", "info")).lower(), "info")
            message = str(entry.pop("@message", ""))
            entry.pop("@timestamp", None)
            module = entry.pop("@module", None)
            fields = {k.lstrip("@"): v for k, v in entry.items()}
            if module:
                fields["module"] = module
            return PluginLog(source, level, message, fields)
    return PluginLog(source, "info", text)


class LaunchError(Exception):
    """The adapter could not be started or did not complete the handshake."""

    def __init__(self, message: str, stderr_tail: Sequence[str] = ()) -> None:
        tail = "".join(f"\n  | {line}" for line in stderr_tail)
        super().__init__(message + (f"\nlast lines on the adapter's stderr:{tail}" if tail else ""))
        self.reason = message
        self.stderr_tail = list(stderr_tail)


@dataclass(frozen=True)
class LaunchOptions:
    """How to start an adapter. ``env`` adds variables to the host's environment."""

    start_timeout: float = 10.0
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    app_versions: Sequence[int] = protocol.SUPPORTED_APP_VERSIONS
    min_port: int = 0
    max_port: int = 0
    log_level: str | None = None
    on_log: LogSink | None = None


class PluginProcess:
    """A running adapter process, connected and healthy when :func:`launch` returns it."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        handshake: protocol.HandshakeLine,
        channel: grpc.aio.Channel,
        command: Sequence[str],
    ) -> None:
        self.process = process
        self.handshake = handshake
        self.channel = channel
        self.command = list(command)
        self.stub: adapter_pb2_grpc.ChannelAdapterAsyncStub = adapter_pb2_grpc.ChannelAdapterStub(
            channel
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped: StopOutcome | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def health(self, rpc_timeout: float = 2.0) -> int:
        """grpc.health.v1 status of service ``plugin`` (raises grpc.aio.AioRpcError)."""
        return await check_health(self.channel, protocol.HEALTH_SERVICE, rpc_timeout)

    async def capabilities(self, rpc_timeout: float = 5.0) -> adapter_pb2.GetCapabilitiesResponse:
        return await self.stub.GetCapabilities(
            adapter_pb2.GetCapabilitiesRequest(), timeout=rpc_timeout
        )

    async def wait(self) -> int:
        """Wait for the process to exit; its exit status (negative: killed by a signal)."""
        return await self.process.wait()

    async def stop(
        self,
        *,
        shutdown_timeout: float = 2.0,
        exit_timeout: float = 2.0,
        term_timeout: float = 2.0,
    ) -> StopOutcome:
        """Stop gracefully (Shutdown RPC), then SIGTERM, then SIGKILL; release everything.

        Safe to call again: later calls return the first outcome.
        """
        if self._stopped is not None:
            return self._stopped
        outcome: StopOutcome = "exited"
        if self.process.returncode is None:
            with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError, TimeoutError):
                # Go plugins stop their server inside Shutdown, so the call itself may fail.
                await grpc_controller_pb2_grpc.GRPCControllerStub(self.channel).Shutdown(
                    grpc_controller_pb2.Empty(), timeout=shutdown_timeout
                )
            outcome = "graceful"
            if not await self._exited_within(exit_timeout):
                self._signal(signal.SIGTERM)
                outcome = "terminated"
                if not await self._exited_within(term_timeout):
                    self.kill()
                    outcome = "killed"
                    await self.process.wait()
        self._stopped = outcome
        await self.release()
        return outcome

    def kill(self) -> None:
        """SIGKILL the adapter and anything it started (its process group); no waiting."""
        self._signal(signal.SIGKILL)

    async def release(self) -> None:
        """Close the connection and the log readers (after the process exited).

        Calls still in flight are given a moment to fail on their own (the process is gone,
        so they end UNAVAILABLE, which callers retry) instead of being cancelled outright:
        grpc.aio reports a cancelled call as asyncio.CancelledError in the caller's task."""
        await self.channel.close(RELEASE_GRACE_SECONDS)
        if self._tasks:
            # Pipes reach EOF once the process is gone; give the readers a moment to drain.
            _, pending = await asyncio.wait(self._tasks, timeout=1.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.handshake.network == "unix":
            _remove_socket(self.handshake.address)

    def _signal(self, signum: int) -> None:
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    async def _exited_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(asyncio.shield(self.process.wait()), seconds)
        except TimeoutError:
            return False
        return True


async def launch(command: Sequence[str], options: LaunchOptions | None = None) -> PluginProcess:
    """Start ``command`` as an adapter plugin and return it connected and SERVING."""
    opts = options or LaunchOptions()
    if not command:
        raise LaunchError("no adapter command given")
    env = protocol.plugin_environment(
        app_versions=opts.app_versions,
        min_port=opts.min_port,
        max_port=opts.max_port,
        log_level=opts.log_level,
    )
    env.update(opts.env or {})
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=opts.cwd,
            start_new_session=True,
            limit=_PIPE_LIMIT,
        )
    except OSError as exc:
        raise LaunchError(f"cannot start adapter {' '.join(command)!r}: {exc}") from exc
    tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
    sink = opts.on_log or (lambda _log: None)
    assert process.stdout is not None
    assert process.stderr is not None
    stderr_task = asyncio.create_task(_pump_lines(process.stderr, "stderr", sink, tail))
    tasks = [stderr_task]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + opts.start_timeout
    channel: grpc.aio.Channel | None = None
    try:
        line = await _first_line(process, process.stdout, opts.start_timeout, stderr_task, tail)
        try:
            handshake = protocol.HandshakeLine.parse(line, offered_app_versions=opts.app_versions)
        except protocol.HandshakeError as exc:
            raise LaunchError(str(exc), list(tail)) from None
        channel = grpc.aio.insecure_channel(
            handshake.grpc_target,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        plugin = PluginProcess(process, handshake, channel, command)
        plugin._tasks = tasks
        tasks.append(asyncio.create_task(_pump_lines(process.stdout, "stdout", sink, tail)))
        await _await_serving(plugin, deadline - loop.time(), tail)
        tasks.append(asyncio.create_task(_pump_stdio(channel, sink)))
        return plugin
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if channel is not None:
            await channel.close(None)
        for task in tasks:
            task.cancel()
        raise


async def _first_line(
    process: asyncio.subprocess.Process,
    stdout: asyncio.StreamReader,
    seconds: float,
    stderr_task: asyncio.Task[None],
    tail: deque[str],
) -> str:
    try:
        raw = await asyncio.wait_for(stdout.readline(), seconds)
    except TimeoutError:
        raise LaunchError(
            f"the adapter printed no handshake line within {seconds:g} s", list(tail)
        ) from None
    except ValueError:
        raise LaunchError("the adapter's first stdout line is longer than 1 MiB") from None
    if raw:
        return raw.decode(errors="replace")
    # stdout closed without a line: the process is exiting. Collect why.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), 2.0)
        await asyncio.wait_for(asyncio.shield(stderr_task), 1.0)
    status = process.returncode
    raise LaunchError(
        f"the adapter exited (status {status}) before printing its handshake line", list(tail)
    )


async def _await_serving(plugin: PluginProcess, budget: float, tail: deque[str]) -> None:
    async def serving() -> int:
        await plugin.channel.channel_ready()
        return await plugin.health(rpc_timeout=max(budget, 0.5))

    check = asyncio.ensure_future(serving())
    exited = asyncio.ensure_future(plugin.process.wait())
    try:
        await asyncio.wait(
            {check, exited}, timeout=max(budget, 0.1), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        exited.cancel()
    if not check.done():
        check.cancel()
        status = plugin.process.returncode
        detail = "timed out" if status is None else f"the adapter exited (status {status})"
        target = plugin.handshake.grpc_target
        raise LaunchError(
            f"cannot reach the adapter at {target} after the handshake: {detail}",
            list(tail),
        )
    try:
        status = check.result()
    except grpc.aio.AioRpcError as exc:
        raise LaunchError(
            f"cannot reach the adapter at {plugin.handshake.grpc_target} after the handshake: "
            f"{exc.details()}",
            list(tail),
        ) from None
    if status != health_pb2.HealthCheckResponse.SERVING:
        name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
        raise LaunchError(f"the adapter's health (service 'plugin') is {name}", list(tail))


async def _pump_lines(
    reader: asyncio.StreamReader, source: str, sink: LogSink, tail: deque[str]
) -> None:
    while True:
        try:
            raw = await reader.readline()
        except ValueError:
            # A line over the pipe limit: pass it on in pieces rather than stall.
            raw = await reader.read(_PIPE_LIMIT)
        if not raw:
            return
        text = raw.decode(errors="replace").rstrip("\r\n")
        if source == "stderr":
            tail.append(text)
        _emit(sink, parse_log_line(text, source))


async def _pump_stdio(channel: grpc.aio.Channel, sink: LogSink) -> None:
    """Mirror go-plugin's GRPCStdio stream (Go plugins' stdout/stderr after Serve)."""
    partial = {grpc_stdio_pb2.StdioData.STDOUT: b"", grpc_stdio_pb2.StdioData.STDERR: b""}
    stream = grpc_stdio_pb2_grpc.GRPCStdioStub(channel).StreamStdio(empty_pb2.Empty())
    try:
        async for data in stream:
            buffered = partial.get(data.channel, b"") + data.data
            *lines, rest = buffered.split(b"\n")
            partial[data.channel] = rest
            for line in lines:
                _emit(sink, parse_log_line(line.decode(errors="replace"), "stdio"))
    except grpc.aio.AioRpcError:
        return  # UNIMPLEMENTED (not a Go plugin), or the plugin stopped


async def check_health(channel: grpc.aio.Channel, service: str, rpc_timeout: float) -> int:
    """grpc.health.v1 Check: the ServingStatus of ``service`` (raises grpc.aio.AioRpcError)."""
    stub: Any = health_pb2_grpc.HealthStub(channel)  # the stubs package lacks its methods
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=rpc_timeout)
    return int(reply.status)


def _emit(sink: LogSink, entry: PluginLog) -> None:
    if entry.message or entry.fields:
        with contextlib.suppress(Exception):
            sink(entry)


def _remove_socket(path: str) -> None:
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
