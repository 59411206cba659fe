"""What each adapter declared (GetCapabilities), remembered per adapter.

Reading a channel shows its adapter's capabilities, but must not wait for an adapter that
is restarting: the last declaration seen is kept and used while the adapter cannot be
reached (adapters declare capabilities independent of any channel, and they change only
with a new adapter version).
"""

from __future__ import annotations

import asyncio

from linktor.adapter.v1 import adapter_pb2
from linktor.server.channels.app.adapter_calls import acquire
from linktor.server.logs import get_logger
from linktor.server.plugins.port import AdapterHandle, AdapterProvider
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import DomainError

log = get_logger(__name__)

AdapterKey = tuple[ChannelType, str]


class AdapterCapabilities:
    def __init__(self, adapters: AdapterProvider, wait: float = 2.0) -> None:
        """``wait``: how long a read waits for an adapter that is not ready."""
        self._adapters = adapters
        self._wait = wait
        self._known: dict[AdapterKey, adapter_pb2.GetCapabilitiesResponse] = {}

    async def handle(self, channel_type: ChannelType, address: str) -> AdapterHandle:
        """The adapter, connected (started if needed); Unavailable when it cannot be."""
        handle = await acquire(self._adapters, channel_type, address)
        self._known[(channel_type, address)] = handle.capabilities
        return handle

    async def of(
        self, channel_type: ChannelType, address: str
    ) -> adapter_pb2.GetCapabilitiesResponse | None:
        """The adapter's declaration: fresh when it answers within ``wait``, else the last one
        seen, else None. Never raises for an unavailable adapter."""
        # Shielded: giving up waiting must not cancel an adapter launch in progress.
        pending = asyncio.ensure_future(self.handle(channel_type, address))
        try:
            handle = await asyncio.wait_for(asyncio.shield(pending), self._wait)
        except TimeoutError:
            pending.add_done_callback(_quietly)
        except DomainError as exc:
            log.info(
                "adapter capabilities unavailable", type=channel_type.value, problem=exc.message
            )
        else:
            return handle.capabilities
        return self._known.get((channel_type, address))


def _quietly(task: asyncio.Future[AdapterHandle]) -> None:
    # Retrieve the outcome of a launch nobody waits for any more, so it is not reported
    # as "exception never retrieved"; the plugin host logs its own failures.
    if not task.cancelled():
        task.exception()
