"""The outbox-backed implementation of the EventRecorder port (shared.domain_events).

A use case records framework-free domain events; this recorder turns each into a
linktor.v1.Event with the serializer its context registered (in that context's api ring) and
appends it to the outbox of the current transaction. The outbox relay numbers the events per
tenant (no gaps, never repeated), stores them in the event log and fans them out. A use case
that rolls back records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linktor.server.events.domain.types import events_subject
from linktor.server.infra.outbox.writer import OutboxRow, OutboxWriter
from linktor.server.shared.clock import Clock
from linktor.server.shared.domain_events import DomainEvent
from linktor.server.shared.ids import new_id
from linktor.v1 import event_pb2

# Fills the payload of an Event for one domain event class.
Serializer = Callable[[Any, event_pb2.Event], None]

_SERIALIZERS: dict[type, Serializer] = {}


def register_serializer(event_class: type, serializer: Serializer) -> None:
    """Declare how a context's domain event becomes the payload of a linktor.v1.Event."""
    _SERIALIZERS[event_class] = serializer


def to_proto(event: DomainEvent, clock: Clock) -> event_pb2.Event:
    for cls in type(event).__mro__:
        serializer = _SERIALIZERS.get(cls)
        if serializer is not None:
            break
    else:
        raise LookupError(f"no serializer registered for {type(event).__name__}")
    message = event_pb2.Event(type=event.type)
    message.create_time.FromDatetime(clock.now())
    serializer(event, message)
    return message


class OutboxEventRecorder:
    """Appends events to the outbox of one unit of work."""

    def __init__(self, outbox: OutboxWriter, clock: Clock) -> None:
        self._outbox = outbox
        self._clock = clock

    async def record(self, event: DomainEvent) -> None:
        message = to_proto(event, self._clock)
        self._outbox.add(
            OutboxRow(
                tenant_id=event.tenant_id,
                subject=events_subject(event.tenant_id),
                msg_id=new_id(),
                payload=message.SerializeToString(),
                create_time=self._clock.now(),
            )
        )
