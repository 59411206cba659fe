"""Channel state from adapter health: the plugin host reports each adapter's state changes
(PluginHost.watch); channels served by an adapter that is restarting or unreachable show
DEGRADED with the reason, and ACTIVE again once it is READY. Disabled channels and channels
in ERROR keep their state.

A launched adapter serves every channel of its type without an adapter_address; a remote
one the channels naming its address. With several replicas each supervises its own adapter
processes, so a crash on one replica marks the channels DEGRADED for all until that adapter
is back (the state says "some messages are waiting", which is then true).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from linktor.server.channels.app.ports import ChannelStore
from linktor.server.channels.domain.channel import Channel
from linktor.server.logs import get_logger
from linktor.server.plugins.registry import channel_type_name
from linktor.server.plugins.state import AdapterState, AdapterStatus
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import Aborted

log = get_logger(__name__)


class AdapterHealth:
    def __init__(
        self,
        store: ChannelStore,
        clock: Clock,
        on_change: Callable[[Channel], None] = lambda _channel: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_change = on_change
        # The host runs each notification as its own task: one at a time, in order (the lock
        # is fair), so a quick "restarting, ready" cannot be applied as "ready, restarting".
        self._in_order = asyncio.Lock()

    async def adapter_changed(self, status: AdapterStatus) -> None:
        """An AdapterObserver for PluginHost.watch."""
        async with self._in_order:
            await self._follow(status)

    async def _follow(self, status: AdapterStatus) -> None:
        if status.state.degraded:
            reason = f"the {status.key} adapter is {status.state.value}" + (
                f": {status.reason}" if status.reason else ""
            )
            await self._apply(
                status, lambda c: c.adapter_unavailable(reason[:500], self._clock.now())
            )
        elif status.state is AdapterState.READY:
            await self._apply(status, lambda c: c.adapter_available(self._clock.now()))
        # STARTING and STOPPED (host shutdown) say nothing about the channels.

    async def _apply(self, status: AdapterStatus, move: Callable[[Channel], Channel]) -> None:
        channel_type: ChannelType | None = None
        if not status.address:
            try:
                channel_type = ChannelType(channel_type_name(status.channel_type))
            except ValueError:
                return
        changed: list[Channel] = []
        async with self._store.privileged() as uow:
            for channel in await uow.channels.list_for_adapter(channel_type, status.address):
                moved = move(channel)
                if moved == channel:
                    continue
                try:
                    changed.append(
                        await uow.channels.update(moved, expected_version=channel.version)
                    )
                except Aborted:
                    continue  # changed meanwhile; the next status change catches up
            await uow.commit()
        for channel in changed:
            self._on_change(channel)
        if changed:
            log.info(
                "channel states follow their adapter",
                adapter=status.key,
                adapter_state=status.state.value,
                channels=len(changed),
            )
