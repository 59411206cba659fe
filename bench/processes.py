"""CPU time and resident memory of the platform's processes, shared by the benchmarks.

On a shared machine CPU time per message is far steadier than throughput, and it tells what
a dedicated machine could do: a rate of N/s needs N x (CPU per message) cores. A process's
descendants count apart (``<name>_children``): the adapters of a Linktor process, the
backends of PostgreSQL, live or already reaped.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import psutil


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time of a process, and of its descendants: live ones plus the children it has
    reaped (so a PostgreSQL backend or an adapter that exited still counts)."""
    process = psutil.Process(pid)
    times = process.cpu_times()
    children = times.children_user + times.children_system
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child_times = child.cpu_times()
            children += child_times.user + child_times.system
    return times.user + times.system, children


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory in MB of a process, and of its live descendants together."""
    process = psutil.Process(pid)
    own = process.memory_info().rss / 2**20
    children = 0.0
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            children += child.memory_info().rss / 2**20
    return own, children


@dataclass
class CpuMeter:
    """CPU seconds spent by named processes between start and stop; ``own_only`` names
    processes whose descendants are not the platform's (the benchmark's client)."""

    pids: dict[str, int]
    own_only: frozenset[str] = frozenset()
    _start: dict[str, float] = field(default_factory=dict)

    def _read(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(psutil.Error):
                own, children = cpu_seconds(pid)
                values[name] = own
                if name not in self.own_only:
                    values[f"{name}_children"] = children
        return values

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> dict[str, float]:
        """CPU seconds per process (``<name>``) and per process's descendants
        (``<name>_children``)."""
        end = self._read()
        return {name: end[name] - self._start[name] for name in end if name in self._start}
