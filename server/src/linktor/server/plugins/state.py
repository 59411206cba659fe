"""What the plugin host tells the rest of the platform about its adapters.

The channels context subscribes (``PluginHost.watch``) to show a channel DEGRADED while its
adapter restarts or is unreachable, and ACTIVE again once it is READY.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class AdapterState(enum.Enum):
    """Lifecycle of one adapter (a launched process, or a remote address)."""

    #: First launch in progress.
    STARTING = "starting"
    #: Connected and healthy: acquire() returns at once.
    READY = "ready"
    #: Crashed, unhealthy or failed to start; relaunching with backoff. acquire() waits.
    RESTARTING = "restarting"
    #: A remote adapter that does not answer (or answers unhealthy).
    UNREACHABLE = "unreachable"
    #: Stopped by the host's shutdown.
    STOPPED = "stopped"

    @property
    def degraded(self) -> bool:
        """Whether channels served by the adapter should show DEGRADED."""
        return self in (AdapterState.RESTARTING, AdapterState.UNREACHABLE)


@dataclass(frozen=True)
class AdapterStatus:
    """One adapter's state, as of its last change.

    ``key`` names the adapter: the channel type name (``WHATSAPP``) for a launched adapter,
    the address for a remote one.
    """

    key: str
    channel_type: int
    address: str
    state: AdapterState
    reason: str = ""
    restarts: int = 0
    pid: int | None = None


#: Called on every state change; may be a coroutine function (run as a task, not awaited).
AdapterObserver = Callable[[AdapterStatus], Awaitable[None] | None]
