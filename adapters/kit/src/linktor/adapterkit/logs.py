"""Logging inside an adapter process: JSON lines on stderr, in go-hclog's JSON shape.

The host reads a plugin's stderr line by line. A line that is a JSON object with
``@level`` and ``@message`` (what go-hclog writes with ``JSONFormat: true``, and what this
module writes) becomes a structured log record on the host with its level and fields; any
other line is logged as raw text. Using the same shape as Go plugins means one parser serves
plugins in every language.

Adapters must never log secrets: ``ChannelConfig.secrets`` values, tokens, signatures.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from linktor.adapterkit.protocol import ENV_LOG_LEVEL

# Attributes every LogRecord has; anything else was passed through ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_LEVELS = {"debug": "debug", "info": "info", "warning": "warn", "error": "error"}


class HclogJsonFormatter(logging.Formatter):
    """Formats a record as one go-hclog style JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "@level": _LEVELS.get(record.levelname.lower(), "error"),
            "@message": record.getMessage(),
            "@module": record.name,
            "@timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_plugin_logging(level: str | None = None) -> None:
    """Send the process's logging to stderr as JSON lines, at the host's level.

    ``level`` defaults to LINKTOR_ADAPTER_LOG_LEVEL (set by the host), then ``info``.
    """
    chosen = (level or os.environ.get(ENV_LOG_LEVEL) or "info").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(HclogJsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(chosen if chosen in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO")
    # Libraries that log every request at INFO.
    for noisy in ("httpx", "httpcore", "grpc._cython.cygrpc"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
