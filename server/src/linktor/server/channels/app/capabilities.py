"""What each adapter declared (GetCapabilities), remembered per adapter.

Reading a channel shows its adapter's capabilities, but must not wait for an adapter that
is restarting: the last declaration seen is kept and used while the adapter cannot be
reached (adapters declare capabilities independent of any channel, and they change only
with a new adapter version).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from linktor.adapter.v1 import adapter_pb2
from linktor.server.channels.app.adapter_calls import acquire
from linktor.server.logs import get_logger
from linktor.server.plugins.port import AdapterHandle, AdapterProvider
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import DomainError

log = get_logger(__name__)

AdapterKey = tuple[ChannelType, str]


class AdapterCapabilities:
    def __init__(
        self,
        adapters: AdapterProvider,
        *,
        wait: float = 15.0,
        fresh_for: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``wait``: how long a read waits for an adapter never seen (its first launch on this
        replica: a cold replica must still answer its first send or webhook, so this is as
        long as an adapter may take to start); ``fresh_for``: how long a declaration is used
        without asking the adapter again."""
        self._adapters = adapters
        self._wait = wait
        self._fresh_for = fresh_for
        self._clock = clock
        self._known: dict[AdapterKey, tuple[float, adapter_pb2.GetCapabilitiesResponse]] = {}

    async def handle(self, channel_type: ChannelType, address: str) -> AdapterHandle:
        """The adapter, connected (started if needed); Unavailable when it cannot be."""
        handle = await acquire(self._adapters, channel_type, address)
        self._known[(channel_type, address)] = (self._clock(), handle.capabilities)
        return handle

    async def of(
        self, channel_type: ChannelType, address: str
    ) -> adapter_pb2.GetCapabilitiesResponse | None:
        """The adapter's declaration: the one seen in the last ``fresh_for`` seconds, else a
        fresh one when the adapter answers in time (``wait`` for an adapter never seen, a
        moment otherwise), else the last one seen, else None. Never raises for an adapter
        that is unavailable, and never makes a read wait for a restart."""
        known = self._known.get((channel_type, address))
        if known is not None and self._clock() - known[0] < self._fresh_for:
            return known[1]
        # Shielded: giving up waiting must not cancel an adapter launch in progress.
        pending = asyncio.ensure_future(self.handle(channel_type, address))
        try:
            handle = await asyncio.wait_for(
                asyncio.shield(pending), self._wait if known is None else 0.1
            )
        except TimeoutError:
            pending.add_done_callback(_quietly)
        except DomainError as exc:
            log.info(
                "adapter capabilities unavailable", type=channel_type.value, problem=exc.message
            )
        else:
            return handle.capabilities
        return None if known is None else known[1]


def _quietly(task: asyncio.Future[AdapterHandle]) -> None:
    # Retrieve the outcome of a launch nobody waits for any more, so it is not reported
    # as "exception never retrieved"; the plugin host logs its own failures.
    if not task.cancelled():
        task.exception()
