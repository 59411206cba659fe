"""An adapter's stderr, stdout and GRPCStdio lines, into the server's structured logs."""

from __future__ import annotations

from typing import Any

from linktor.adapterkit.launcher import PluginLog
from linktor.server.logs import get_logger

log = get_logger("linktor.adapter")

# Keys structlog's processors own; an adapter's field of the same name is kept, renamed.
_RESERVED = frozenset({"event", "level", "logger", "timestamp", "exc_info", "adapter", "pid"})
_LEVELS = {"debug": log.debug, "info": log.info, "warning": log.warning, "error": log.error}


class AdapterOutput:
    """The log sink of one adapter: every line becomes one record naming the adapter."""

    def __init__(self, adapter: str) -> None:
        self.adapter = adapter
        self.pid: int | None = None

    def __call__(self, entry: PluginLog) -> None:
        fields: dict[str, Any] = {
            (f"adapter_{key}" if key in _RESERVED else key): value
            for key, value in entry.fields.items()
        }
        emit = _LEVELS.get(entry.level, log.info)
        emit(entry.message, adapter=self.adapter, pid=self.pid, source=entry.source, **fields)
