"""Adapter processes for the plugin host's tests: the fake adapter, test programs, timings."""

from __future__ import annotations

import sys
from pathlib import Path

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.testing import channel_config, text_message
from linktor.server.plugins.supervisor import SupervisionOptions
from linktor.v1 import common_pb2

FAKE_ADAPTER = [sys.executable, "-m", "linktor.adapters.fake"]
WEBCHAT = common_pb2.CHANNEL_TYPE_WEBCHAT
SMS = common_pb2.CHANNEL_TYPE_SMS
PROGRAMS = Path(__file__).parent.parent / "plugins" / "programs"

# Fast supervision for tests (exits are noticed at once anyway): health every 0.2 s.
FAST = SupervisionOptions(
    start_timeout=20, health_interval=0.2, health_timeout=1, initial_backoff=0.05, max_backoff=1
)


def fake_send(
    message_id: str = "m1", *, body: str = "hello", attempt: int = 1
) -> adapter_pb2.SendRequest:
    """A Send for the fake adapter's default (webchat) channel."""
    return adapter_pb2.SendRequest(
        channel=channel_config(WEBCHAT, {}, {"webhook_secret": "s"}),
        message_id=message_id,
        recipient="visitor",
        content=text_message(body),
        attempt=attempt,
    )
