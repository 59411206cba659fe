"""What the fake provider saw: one JSON line per call, appended to LINKTOR_FAKE_ADAPTER_LOG.

A side channel for tests that needs no RPC: the file survives adapter crashes and restarts
(each process appends), so a test can assert "the provider saw each message id once". Each
record is written with a single ``write`` on an O_APPEND descriptor, so lines of concurrent
writers never interleave.

Fields: ``op`` (send, mark_read, typing, upload), ``pid``, ``time``; for sends
``message_id``, ``recipient``, ``attempt``, ``channel``, ``kind``, ``content`` (the canonical
content as JSON), ``outcome`` (``sent``, ``failed``, ``crash_after_send``), ``code`` and
``provider_message_id``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

ENV_LOG = "LINKTOR_FAKE_ADAPTER_LOG"


class Recorder:
    """Appends records to a file; does nothing when no path is configured."""

    def __init__(self, path: str | None) -> None:
        self.path = path or None
        self._fd: int | None = None
        if self.path:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    @property
    def enabled(self) -> bool:
        return self._fd is not None

    def record(self, op: str, **fields: Any) -> None:
        if self._fd is None:
            return
        entry = {"op": op, "pid": os.getpid(), "time": round(time.time(), 6), **fields}
        os.write(self._fd, (json.dumps(entry, separators=(",", ":")) + "\n").encode())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_records(path: str) -> list[dict[str, Any]]:
    """Every record in ``path`` (for tests); missing file = none."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []
