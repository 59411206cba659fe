"""CPU time and peak memory of the platform's processes during a step.

CPU seconds per process (a process's own, and its descendants': the serve process's adapter,
PostgreSQL's backends, live or already reaped) are far steadier than rates on a shared
machine; peak RSS (with descendants) is sampled every 200 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import psutil

from bench.processes import CpuMeter, rss_mb

INTERVAL_SECONDS = 0.2


@dataclass
class ProcessMeter:
    """``pids`` by name; ``own_only`` names whose children are not the platform's (the client)."""

    pids: dict[str, int]
    own_only: frozenset[str] = frozenset()
    _cpu: CpuMeter | None = None
    _peak: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            for name, pid in self.pids.items():
                if name in self.own_only:
                    continue
                with contextlib.suppress(psutil.Error):
                    total = round(sum(rss_mb(pid)), 1)
                    self._peak[name] = max(self._peak.get(name, 0.0), total)
            await asyncio.sleep(INTERVAL_SECONDS)

    def start(self) -> None:
        self._cpu = CpuMeter(self.pids, self.own_only)
        self._cpu.start()
        self._peak = {}
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> tuple[dict[str, float], dict[str, float]]:
        """(CPU seconds by process since start, peak RSS in MB with descendants)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        cpu = self._cpu.stop() if self._cpu is not None else {}
        return cpu, dict(self._peak)
