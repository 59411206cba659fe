"""Live events to visitor sockets: one stream per tenant, routed, instead of one per socket.

Every socket reading the tenant's stream itself would make each event wake every visitor
socket of the tenant (thousands) only for all but one to drop it. Here one pump per tenant
and process reads ``EventReader.stream`` (stored events exactly once and in order, then
live, gaps filled from the log) and hands each event only to the sockets registered under
one of its routing keys: the visitor id (its own messages before a contact exists), the
contact (its messages), the conversation (typing). The socket's VisitorView still decides
exactly what is shown; routing only has to be a superset.

Joining: a socket attaches and gets the pump's cursor R at that instant; events after R
reach its queue; events in (after, R] it reads from the log itself (``catch_up``). So a
resume is exactly once whatever the pump had already passed. A socket whose queue grows
past MAX_QUEUED (a stalled client) is marked overflowing and closed by its reader; the
widget reconnects and resumes from its last ``seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from linktor.server.events.app.stream import EventReader, StreamFilter
from linktor.server.logs import get_logger
from linktor.server.shared.errors import OutOfRange
from linktor.server.webchat.app.ports import EventPositions
from linktor.server.webchat.app.visitor_view import VISITOR_EVENT_TYPES, provider_id_prefix
from linktor.v1 import event_pb2, message_pb2

log = get_logger(__name__)

MAX_QUEUED = 2_000
CATCH_UP_PAGE = 500
RouteKey = tuple[str, str]


def routes_of(event: event_pb2.Event) -> list[RouteKey]:
    which = event.WhichOneof("payload")
    if which == "message":
        message = event.message
        keys = [("contact", message.contact)]
        if message.direction == message_pb2.MESSAGE_DIRECTION_INBOUND:
            visitor, sep, _ = message.provider_message_id.partition(":")
            if sep:
                keys.append(("visitor", visitor))
        return keys
    if which == "typing":
        return [("conversation", event.typing.conversation)]
    return []


@dataclass(eq=False)
class SocketFeed:
    """One socket's inbox of routed events."""

    keys: set[RouteKey]
    queue: asyncio.Queue[event_pb2.Event] = field(default_factory=asyncio.Queue)
    overflowing: bool = False

    def push(self, event: event_pb2.Event) -> None:
        if self.queue.qsize() >= MAX_QUEUED:
            self.overflowing = True
            # Wake the reader so it notices and closes.
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(event_pb2.Event())
            return
        self.queue.put_nowait(event)


@dataclass(eq=False)
class _TenantPump:
    cursor: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    routes: defaultdict[RouteKey, set[SocketFeed]] = field(default_factory=lambda: defaultdict(set))
    feeds: set[SocketFeed] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class VisitorFanout:
    def __init__(self, events: EventReader, positions: EventPositions) -> None:
        self._events = events
        self._positions = positions
        self._pumps: dict[str, _TenantPump] = {}

    @property
    def pumps(self) -> int:
        return len(self._pumps)

    async def attach(self, tenant_id: str, feed: SocketFeed) -> int:
        """Register ``feed``; the cursor after which events will reach it."""
        pump = self._pumps.get(tenant_id)
        if pump is None:
            pump = self._pumps[tenant_id] = _TenantPump()
            pump.task = asyncio.create_task(self._run(tenant_id, pump), name="webchat-fanout")
        await pump.ready.wait()
        pump.feeds.add(feed)
        for key in feed.keys:
            pump.routes[key].add(feed)
        return pump.cursor

    def route(self, tenant_id: str, feed: SocketFeed, key: RouteKey) -> None:
        """Also send ``feed`` the events of ``key`` (a contact or conversation it learned)."""
        pump = self._pumps.get(tenant_id)
        if pump is not None and feed in pump.feeds and key not in feed.keys:
            feed.keys.add(key)
            pump.routes[key].add(feed)

    def detach(self, tenant_id: str, feed: SocketFeed) -> None:
        pump = self._pumps.get(tenant_id)
        if pump is None:
            return
        pump.feeds.discard(feed)
        for key in feed.keys:
            routed = pump.routes.get(key)
            if routed is not None:
                routed.discard(feed)
                if not routed:
                    del pump.routes[key]
        if not pump.feeds and pump.task is not None:
            # The last socket of the tenant here: stop reading its events.
            del self._pumps[tenant_id]
            pump.task.cancel()

    async def catch_up(
        self, tenant_id: str, after: int, until: int
    ) -> AsyncIterator[event_pb2.Event]:
        """The stored events of the visitor types in (after, until], from the log."""
        token = ""
        while True:
            page, token = await self._events.page(
                tenant_id, after, VISITOR_EVENT_TYPES, CATCH_UP_PAGE, token
            )
            for event in page:
                if event.sequence > until:
                    return
                yield event
            if not token:
                return

    async def close(self) -> None:
        for pump in list(self._pumps.values()):
            if pump.task is not None:
                pump.task.cancel()
        self._pumps.clear()

    async def _run(self, tenant_id: str, pump: _TenantPump) -> None:
        filters = StreamFilter(VISITOR_EVENT_TYPES, include_ephemeral=True)
        while True:
            try:
                if not pump.ready.is_set():
                    pump.cursor = await self._positions.last_sequence(tenant_id)
                    pump.ready.set()
                async for event in self._events.stream(tenant_id, pump.cursor, filters):
                    if not event.ephemeral:
                        pump.cursor = event.sequence
                    for feed in self._targets(pump, event):
                        feed.push(event)
                return
            except asyncio.CancelledError:
                raise
            except OutOfRange as exc:
                # This process fell behind longer than events are kept: go on from the oldest
                # kept; sockets attached meanwhile lose what was purged (logged).
                pump.cursor = int(exc.metadata.get("resume_sequence", pump.cursor))
                log.warning("web chat fan-out resumed past purged events", tenant=tenant_id)
            except Exception as exc:
                # The database or bus is away: keep the cursor, try again shortly (sockets
                # simply wait; nothing after the cursor is lost).
                log.warning("web chat fan-out interrupted", error=type(exc).__name__)
                await asyncio.sleep(1.0)

    @staticmethod
    def _targets(pump: _TenantPump, event: event_pb2.Event) -> set[SocketFeed]:
        found: set[SocketFeed] = set()
        for key in routes_of(event):
            routed = pump.routes.get(key)
            if routed:
                found |= routed
        return found


def visitor_route(visitor_id: str) -> RouteKey:
    return ("visitor", provider_id_prefix(visitor_id).rstrip(":"))
