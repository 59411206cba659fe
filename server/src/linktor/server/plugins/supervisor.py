"""Supervision of one launched adapter: start lazily, watch, restart with backoff, stop.

One supervision task per adapter runs the loop::

    launch (handshake, health) -> GetCapabilities -> READY -> watch -> crash -> backoff -> ...

Watching means: the process's exit (noticed at once) and a health check every
``health_interval``; ``unhealthy_after`` failed checks in a row count as a crash (the process
is killed). Restarts back off exponentially from ``initial_backoff`` to ``max_backoff`` with
jitter; an adapter that stayed healthy for ``stable_after`` starts again from the initial
delay. While not READY, ``acquire`` waits (bounded) and then raises Unavailable, so callers
retry later instead of failing messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import grpc
from grpc_health.v1 import health_pb2

from linktor.adapterkit.launcher import LaunchError, LaunchOptions, PluginProcess, launch
from linktor.server.logs import get_logger
from linktor.server.plugins.handle import ConnectedAdapter
from linktor.server.plugins.output import AdapterOutput
from linktor.server.plugins.registry import channel_type_name
from linktor.server.plugins.state import AdapterState, AdapterStatus
from linktor.server.shared.errors import Unavailable

log = get_logger(__name__)


@dataclass(frozen=True)
class SupervisionOptions:
    """Timings of launching, watching and restarting adapters."""

    start_timeout: float = 15.0
    capabilities_timeout: float = 5.0
    health_interval: float = 5.0
    health_timeout: float = 2.0
    unhealthy_after: int = 3
    initial_backoff: float = 0.1
    max_backoff: float = 30.0
    stable_after: float = 60.0
    min_port: int = 0
    max_port: int = 0
    log_level: str | None = None
    env: Mapping[str, str] | None = None

    def backoff(self, failures: int) -> float:
        """Delay before attempt ``failures`` + 1: exponential, capped, with +-20 % jitter."""
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** max(failures - 1, 0))
        return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


class LaunchedAdapter:
    """A child-process adapter for one channel type."""

    def __init__(
        self,
        channel_type: int,
        command: Sequence[str],
        options: SupervisionOptions,
        notify: Callable[[AdapterStatus], None],
    ) -> None:
        self.channel_type = channel_type
        self.command = list(command)
        self.options = options
        self.name = channel_type_name(channel_type)
        self._notify = notify
        self._ready = asyncio.Event()
        self._handle: ConnectedAdapter | None = None
        self._plugin: PluginProcess | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.status = AdapterStatus(self.name, channel_type, "", AdapterState.STOPPED)

    async def acquire(self, wait: float) -> ConnectedAdapter:
        if self._closing:
            raise Unavailable(
                f"the {self.name} adapter is stopping", metadata={"adapter": self.name}
            )
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=f"adapter-{self.name}")
        handle = self._handle
        if handle is not None:
            return handle
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait)
        handle = self._handle
        if handle is None:
            state = self.status.state.value
            reason = f": {self.status.reason}" if self.status.reason else ""
            raise Unavailable(
                f"the {self.name} adapter is not ready ({state}{reason}); try again later",
                metadata={"adapter": self.name, "state": state},
            )
        return handle

    async def close(self) -> None:
        """Stop supervising, then stop the process gracefully (Shutdown, SIGTERM, SIGKILL)."""
        self._closing = True
        self._handle = None
        self._ready.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        plugin, self._plugin = self._plugin, None
        if plugin is not None:
            outcome = await plugin.stop()
            log.info("adapter stopped", adapter=self.name, pid=plugin.pid, outcome=outcome)
        if self._task is not None:
            self._set(AdapterState.STOPPED, "the plugin host stopped")

    # ------------------------------------------------------------------ supervision

    async def _supervise(self) -> None:
        failures = 0
        while not self._closing:
            state = (
                AdapterState.STARTING
                if failures == 0 and self.status.restarts == 0
                else AdapterState.RESTARTING
            )
            self._set(state, self.status.reason)
            try:
                plugin = await self._start()
            except (LaunchError, _StartError) as exc:
                failures += 1
                delay = self.options.backoff(failures)
                log.warning(
                    "adapter failed to start",
                    adapter=self.name,
                    error=str(exc),
                    retry_in_s=round(delay, 2),
                )
                self._set(AdapterState.RESTARTING, _first_line(exc))
                await asyncio.sleep(delay)
                continue
            healthy_since = time.monotonic()
            reason = await self._watch(plugin)
            self._handle = None
            self._ready.clear()
            if time.monotonic() - healthy_since >= self.options.stable_after:
                failures = 0
            failures += 1
            self.status = replace(self.status, restarts=self.status.restarts + 1)
            delay = self.options.backoff(failures)
            log.warning(
                "adapter crashed; restarting",
                adapter=self.name,
                pid=plugin.pid,
                reason=reason,
                restarts=self.status.restarts,
                retry_in_s=round(delay, 2),
            )
            self._set(AdapterState.RESTARTING, reason)
            self._plugin = None
            await plugin.stop(shutdown_timeout=0.5, exit_timeout=0.5, term_timeout=1.0)
            await asyncio.sleep(delay)

    async def _start(self) -> PluginProcess:
        started = time.monotonic()
        output = AdapterOutput(self.name)
        opts = self.options
        plugin = await launch(
            self.command,
            LaunchOptions(
                start_timeout=opts.start_timeout,
                env=opts.env,
                min_port=opts.min_port,
                max_port=opts.max_port,
                log_level=opts.log_level,
                on_log=output,
            ),
        )
        output.pid = plugin.pid
        self._plugin = plugin
        try:
            capabilities = await plugin.capabilities(rpc_timeout=opts.capabilities_timeout)
        except grpc.aio.AioRpcError as exc:
            self._plugin = None
            await plugin.stop()
            raise _StartError(
                f"GetCapabilities failed: {exc.code().name}: {exc.details()}"
            ) from None
        if capabilities.channel_type != self.channel_type:
            self._plugin = None
            await plugin.stop()
            declared = channel_type_name(capabilities.channel_type)
            raise _StartError(f"the adapter serves {declared}, but is registered for {self.name}")
        self._handle = ConnectedAdapter(plugin.stub, capabilities, plugin.pid)
        self._ready.set()
        log.info(
            "adapter ready",
            adapter=self.name,
            pid=plugin.pid,
            address=plugin.handshake.address,
            name=capabilities.adapter_name,
            version=capabilities.adapter_version,
            start_ms=round((time.monotonic() - started) * 1000),
        )
        self._set(AdapterState.READY, "", pid=plugin.pid)
        return plugin

    async def _watch(self, plugin: PluginProcess) -> str:
        """Return why the adapter must be restarted (it exited, or stopped being healthy)."""
        exited = asyncio.ensure_future(plugin.wait())
        failed_checks = 0
        try:
            while True:
                await asyncio.wait({exited}, timeout=self.options.health_interval)
                if exited.done():
                    return f"exited with status {exited.result()}"
                problem = await self._health_problem(plugin)
                failed_checks = failed_checks + 1 if problem else 0
                if problem:
                    log.warning(
                        "adapter health check failed",
                        adapter=self.name,
                        pid=plugin.pid,
                        problem=problem,
                    )
                if failed_checks >= self.options.unhealthy_after:
                    plugin.kill()
                    await exited
                    return f"unhealthy: {problem}"
        finally:
            exited.cancel()

    async def _health_problem(self, plugin: PluginProcess) -> str:
        try:
            status = await plugin.health(rpc_timeout=self.options.health_timeout)
        except grpc.aio.AioRpcError as exc:
            return f"health check: {exc.code().name}"
        if status != health_pb2.HealthCheckResponse.SERVING:
            return f"health is {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}"
        return ""

    def _set(self, state: AdapterState, reason: str, *, pid: int | None = None) -> None:
        changed = (state, reason) != (self.status.state, self.status.reason)
        self.status = replace(self.status, state=state, reason=reason, pid=pid)
        if changed:
            self._notify(self.status)


class _StartError(Exception):
    """The process started but is not a usable adapter for this channel type."""


def _first_line(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, LaunchError) else str(exc)
    return reason.splitlines()[0] if reason else type(exc).__name__
