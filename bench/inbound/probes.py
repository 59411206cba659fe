"""CPU time and peak memory of the platform's processes during a step.

CPU seconds per process (a process's own, and its descendants': the serve process's adapter,
PostgreSQL's backends, live or already reaped) are far steadier than rates on a shared
machine; peak RSS is sampled every 200 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import psutil

INTERVAL_SECONDS = 0.2


def _cpu(pid: int) -> tuple[float, float]:
    process = psutil.Process(pid)
    times = process.cpu_times()
    children = times.children_user + times.children_system
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child_times = child.cpu_times()
            children += child_times.user + child_times.system
    return times.user + times.system, children


def _rss_mb(pid: int) -> float:
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return round(total / 2**20, 1)


@dataclass
class ProcessMeter:
    """``pids`` by name; ``cpu`` names whose children are not the platform's (the client)."""

    pids: dict[str, int]
    own_only: frozenset[str] = frozenset()
    _start: dict[str, float] = field(default_factory=dict)
    _peak: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def _read(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(psutil.Error):
                own, children = _cpu(pid)
                values[name] = own
                if name not in self.own_only:
                    values[f"{name}_children"] = children
        return values

    async def _sample(self) -> None:
        while True:
            for name, pid in self.pids.items():
                if name in self.own_only:
                    continue
                with contextlib.suppress(psutil.Error):
                    self._peak[name] = max(self._peak.get(name, 0.0), _rss_mb(pid))
            await asyncio.sleep(INTERVAL_SECONDS)

    def start(self) -> None:
        self._start = self._read()
        self._peak = {}
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> tuple[dict[str, float], dict[str, float]]:
        """(CPU seconds by process since start, peak RSS in MB with descendants)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        end = self._read()
        cpu = {k: v - self._start[k] for k, v in end.items() if k in self._start}
        return cpu, dict(self._peak)
