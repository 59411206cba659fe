"""What the benchmark watches besides the calls: delivery times (the server's own
``deliver_time`` stamps, read from the database) and peak memory of the processes (their CPU
time: bench.processes.CpuMeter)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psutil
from lktest.deployment import StatusProbe

from bench.processes import rss_mb


async def delivery_times(
    probe: StatusProbe, channel_id: str, request_prefix: str
) -> list[tuple[float, float]]:
    """(accepted, delivered) epoch seconds of the channel's delivered messages whose
    request_id starts with ``request_prefix`` (one scenario's)."""
    rows = await probe.rows(
        "SELECT create_time, deliver_time FROM messages WHERE channel_id = ?"
        " AND direction = 'OUTBOUND' AND deliver_time IS NOT NULL AND request_id LIKE ?",
        channel_id,
        f"{request_prefix}%",
    )
    return [(_epoch(r[0]), _epoch(r[1])) for r in rows]


def _epoch(value: object) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    # SQLite stores the UTC timestamp as text.
    parsed = datetime.fromisoformat(str(value))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


@dataclass
class MemorySampler:
    """Peak resident memory of processes and their children (the adapter plugins)."""

    pids: dict[str, int]
    interval: float = 0.2
    peak_mb: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        total = 0.0
        for name, pid in self.pids.items():
            try:
                own, children = rss_mb(pid)
            except psutil.Error:
                continue
            self._peak(name, own)
            self._peak(f"{name}_adapters", children)
            total += own + children
        self._peak("total", total)

    def _peak(self, key: str, value: float) -> None:
        self.peak_mb[key] = round(max(self.peak_mb.get(key, 0.0), value), 1)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(psutil.Error):
                self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self.peak_mb = {}
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()
        return dict(self.peak_mb)
