"""Sampling the server under load with py-spy (from PyPI, installed on first use into
.tools/py-spy so the project's lock file does not carry a profiler), and summarizing where
the time goes: by own time per function and by component (inclusive time under frames of
a package), from py-spy's raw (collapsed stacks) output.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL_VENV = ROOT / ".tools" / "py-spy"
PY_SPY_VERSION = "0.4.3"
SAMPLE_RATE = 200

# Components by path fragment, first match wins (inclusive: a stack counts once per component).
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("server/messaging/app/send.py", "SendMessage use case"),
    ("server/messaging/app/delivery.py", "delivery worker"),
    ("server/infra/outbox/relay.py", "outbox relay"),
    ("server/events/app/sequencer.py", "event sequencer"),
    ("server/messaging/app/sweeper.py", "sweeper"),
    ("server/identity/", "auth (identity)"),
    ("server/events/app/hub.py", "event hub"),
    ("server/webhooks/", "webhooks"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("asyncpg/", "asyncpg"),
    ("aiosqlite/", "aiosqlite"),
    ("sqlite3", "sqlite3"),
    ("grpc/", "grpc"),
    ("nats/", "nats-py"),
    ("redis/", "redis-py"),
    ("google/protobuf", "protobuf"),
    ("structlog/", "logging"),
    ("logging/", "logging"),
)


def py_spy() -> str:
    found = shutil.which("py-spy") or str(TOOL_VENV / "bin" / "py-spy")
    if not Path(found).exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOL_VENV)], check=True)
        subprocess.run(
            [str(TOOL_VENV / "bin" / "pip"), "install", "-q", f"py-spy=={PY_SPY_VERSION}"],
            check=True,
            timeout=600,
        )
    return found


class Recording:
    """py-spy record on one process until stop()."""

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self._process = subprocess.Popen(
            [
                py_spy(), "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE),
                "--format", "raw", "--output", str(output), "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)


# Activities: the first matching frame from the root names what the process was doing.
ACTIVITIES: tuple[tuple[str, str], ...] = (
    ("AuthInterceptor", "gRPC call: authentication"),
    ("MessageServicer.SendMessage", "gRPC call: SendMessage"),
    ("server/api/grpc_server.py", "gRPC call: other"),
    ("server/messaging/app/delivery.py", "delivery worker"),
    ("server/infra/outbox/relay.py", "outbox relay"),
    ("server/messaging/app/sweeper.py", "sweeper"),
    ("server/events/app/hub.py", "event hub (live fan-out)"),
    ("server/webhooks/", "webhooks fan-out"),
    ("server/infra/bus/", "bus plumbing"),
    ("server/infra/batching.py", "group commit (batcher)"),
    ("grpc/", "grpc internals"),
    ("grpc._cython", "grpc internals"),
    ("nats/", "nats-py internals"),
    ("redis/", "redis-py internals"),
    ("asyncpg/", "asyncpg internals"),
    ("sqlalchemy/", "SQLAlchemy (outside a known caller)"),
)


def activity_of(frames: list[str]) -> str:
    for frame in frames:
        for fragment, name in ACTIVITIES:
            if fragment in frame:
                return name
    return "event loop and other"


def _frames(stack: str) -> list[str]:
    return [frame for frame in stack.split(";") if frame]


def summarize(raw: Path, top: int = 25) -> dict[str, object]:
    """Own time per function and inclusive time per component, as shares of all samples."""
    own: Counter[str] = Counter()
    components: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        total += count
        own[_short(frames[-1])] += count
        activities[activity_of(frames)] += count
        seen = set()
        for frame in frames:
            for fragment, name in COMPONENTS:
                if fragment in frame and name not in seen:
                    seen.add(name)
                    components[name] += count
                    break
    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "own_time_top": [
            {"function": name, "share": round(count / total, 4)}
            for name, count in own.most_common(top)
        ],
        "by_activity": {name: round(count / total, 4) for name, count in activities.most_common()},
        "inclusive_by_component": {
            name: round(count / total, 4) for name, count in components.most_common()
        },
    }


def _short(frame: str) -> str:
    """`func (/long/path/site-packages/pkg/mod.py:12)` -> `func (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"
