"""Reading the event log: pages (ListEvents) and resumable streams (StreamEvents).

A stream delivers every stored event after the client's sequence exactly once and in order:
first from the log, then live. It subscribes to the live fan-out before reading the log, so
nothing produced meanwhile slips between the two; live events at or below the cursor are
duplicates and skipped; a live event beyond ``cursor + 1`` reveals a gap, filled from the log
before it is delivered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from re import Pattern

from linktor.server.events.adapters.sql import SqlEventLog, StoredEvent
from linktor.server.events.app.hub import EventHub, LiveSubscriber
from linktor.server.events.domain.types import type_matcher
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.shared.errors import InvalidArgument, OutOfRange
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.v1 import event_pb2

READ_BATCH = 500


@dataclass(frozen=True)
class StreamFilter:
    types: list[str]
    conversation: str = ""
    include_ephemeral: bool = False

    def matcher(self) -> Pattern[str] | None:
        return type_matcher(self.types)


def _matches(event: event_pb2.Event, matcher: Pattern[str] | None, conversation: str) -> bool:
    if matcher is not None and not matcher.match(event.type):
        return False
    if not conversation:
        return True
    which = event.WhichOneof("payload")
    if which == "message":
        return event.message.name.startswith(conversation + "/")
    if which == "conversation":
        return event.conversation.name == conversation
    if which == "typing":
        return event.typing.conversation == conversation
    if which == "read_receipt":
        return event.read_receipt.conversation == conversation
    return False


def _validate_types(types: list[str]) -> None:
    for i, pattern in enumerate(types):
        if not pattern or any(not part for part in pattern.split(".")):
            raise InvalidArgument.for_field(
                f"types[{i}]", "must be dot-separated segments such as message.created or message.*"
            )


class EventReader:
    def __init__(self, uow: Callable[[str], SqlUnitOfWork], hub: EventHub) -> None:
        self._uow = uow
        self._hub = hub

    async def _read(self, tenant_id: str, after: int, limit: int) -> list[StoredEvent]:
        async with self._uow(tenant_id) as uow:
            return await SqlEventLog(uow.connection).after(tenant_id, after, limit)

    async def _bounds(self, tenant_id: str) -> tuple[int | None, int]:
        async with self._uow(tenant_id) as uow:
            log = SqlEventLog(uow.connection)
            return await log.first_sequence(tenant_id), await log.last_sequence(tenant_id)

    async def page(
        self, tenant_id: str, after_sequence: int, types: list[str], size: int, token: str
    ) -> tuple[list[event_pb2.Event], str]:
        _validate_types(types)
        filters = {"after": after_sequence, "types": sorted(types)}
        position = PageToken.decode(token, filters)
        cursor = int(position.last[0]) if position else after_sequence
        limit = page_size(size, default=100)
        matcher = type_matcher(types)
        found: list[event_pb2.Event] = []
        # Read in batches until the page is full or the log ends (filters may skip rows).
        while len(found) < limit:
            batch = await self._read(tenant_id, cursor, READ_BATCH)
            for stored in batch:
                cursor = stored.sequence
                event = event_pb2.Event.FromString(stored.payload)
                if matcher is None or matcher.match(event.type):
                    found.append(event)
                    if len(found) == limit:
                        break
            if len(batch) < READ_BATCH:
                break
        more = len(found) == limit and bool(await self._read(tenant_id, cursor, 1))
        token_out = PageToken([cursor], fingerprint(filters)).encode() if more else ""
        return found, token_out

    async def stream(
        self, tenant_id: str, after_sequence: int, filters: StreamFilter
    ) -> AsyncIterator[event_pb2.Event]:
        _validate_types(filters.types)
        if after_sequence < 0:
            raise InvalidArgument.for_field("after_sequence", "must not be negative")
        matcher = filters.matcher()
        subscriber = self._hub.subscribe(tenant_id)
        try:
            first, last = await self._bounds(tenant_id)
            if after_sequence == 0:
                cursor = last
            else:
                purged = (first is not None and after_sequence < first - 1) or (
                    first is None and after_sequence < last
                )
                if purged:
                    raise OutOfRange(
                        f"events after sequence {after_sequence} are no longer kept; "
                        "resynchronize from the resources, then stream from "
                        f"sequence {last}",
                        reason="EVENT_SEQUENCE_EXPIRED",
                        metadata={"oldest_sequence": str(first or 0), "resume_sequence": str(last)},
                    )
                cursor = after_sequence
            async for event in self._live(tenant_id, subscriber, cursor, matcher, filters):
                yield event
        finally:
            self._hub.unsubscribe(subscriber)

    async def _catch_up(
        self, tenant_id: str, cursor: int, until: int | None
    ) -> AsyncIterator[event_pb2.Event]:
        while True:
            batch = await self._read(tenant_id, cursor, READ_BATCH)
            for stored in batch:
                if until is not None and stored.sequence > until:
                    return
                cursor = stored.sequence
                yield event_pb2.Event.FromString(stored.payload)
            if len(batch) < READ_BATCH:
                return

    async def _live(
        self,
        tenant_id: str,
        subscriber: LiveSubscriber,
        cursor: int,
        matcher: Pattern[str] | None,
        filters: StreamFilter,
    ) -> AsyncIterator[event_pb2.Event]:
        async for event in self._catch_up(tenant_id, cursor, None):
            cursor = event.sequence
            if _matches(event, matcher, filters.conversation):
                yield event
        while True:
            if subscriber.queue.empty():
                subscriber.wakeup.clear()
                await subscriber.wakeup.wait()
            if subscriber.lagging:
                subscriber.lagging = False
                while not subscriber.queue.empty():
                    subscriber.queue.get_nowait()
                async for event in self._catch_up(tenant_id, cursor, None):
                    cursor = event.sequence
                    if _matches(event, matcher, filters.conversation):
                        yield event
                continue
            while not subscriber.queue.empty():
                event = subscriber.queue.get_nowait()
                if event.ephemeral:
                    if filters.include_ephemeral and _matches(event, matcher, filters.conversation):
                        yield event
                    continue
                if event.sequence <= cursor:
                    continue
                if event.sequence > cursor + 1:
                    async for missed in self._catch_up(tenant_id, cursor, event.sequence - 1):
                        cursor = missed.sequence
                        if _matches(missed, matcher, filters.conversation):
                            yield missed
                if event.sequence <= cursor:
                    continue
                cursor = event.sequence
                if _matches(event, matcher, filters.conversation):
                    yield event
