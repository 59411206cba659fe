"""Domain events and the port that records them.

A use case that changes state records an event describing the change, in the same
transaction as the change (the events context stores it in its per-tenant log and outbox).
Use cases only see :class:`EventRecorder`; which store sits behind it is the composition
root's business. :class:`NoEventRecorder` drops events (until a store is wired) and
:class:`RecordedEvents` keeps them for tests.
"""

from __future__ import annotations

from typing import Protocol


class DomainEvent(Protocol):
    """Something that happened to a resource of a tenant."""

    @property
    def type(self) -> str:
        """The event type, for example ``conversation.assigned``."""
        ...

    @property
    def tenant_id(self) -> str: ...

    @property
    def subject_name(self) -> str:
        """The resource the event is about, for example ``tenants/t/conversations/c``."""
        ...


class EventRecorder(Protocol):
    async def record(self, event: DomainEvent) -> None:
        """Append ``event`` in the current transaction (it is lost if that rolls back)."""
        ...


class NoEventRecorder:
    async def record(self, event: DomainEvent) -> None:
        return None


class RecordedEvents:
    """Keeps what was recorded, in order (a fake for tests)."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def record(self, event: DomainEvent) -> None:
        self.events.append(event)

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]
