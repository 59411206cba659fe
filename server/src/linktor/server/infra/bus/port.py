"""The event bus port.

Two kinds of traffic:

* Durable work (``publish`` / ``consume``): persisted in a stream, de-duplicated by ``msg_id``
  within a window, delivered to ONE consumer of a durable group at a time (competing
  consumers across replicas), redelivered until acknowledged. Used for outbound delivery,
  inbound processing and the event log fan-out to webhooks.
* Ephemeral fan-out (``broadcast`` / ``listen``): not persisted, every listener on every
  replica gets every message published while it listens. Used for real-time streams.

Subjects are dot-separated tokens; patterns use ``*`` for one token and ``>`` for the rest,
as in NATS. Every durable subject belongs to one of the streams in :data:`STREAMS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class StreamSpec:
    """A durable stream: a name and the subjects it stores."""

    name: str
    subjects: tuple[str, ...]
    # Messages older than this are dropped from the stream (seconds); 0 keeps them until acked.
    max_age_seconds: float = 0
    # True: a message is removed once acknowledged (work queue); False: kept until max_age.
    work_queue: bool = True
    # Window in which a repeated msg_id is dropped as a duplicate (seconds).
    duplicate_window_seconds: float = 120


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("LINKTOR_OUTBOUND", ("linktor.outbound.>",)),
    StreamSpec("LINKTOR_INBOUND", ("linktor.inbound.>",)),
    # Inbound media to fetch from providers into media storage (messaging/app/inbound_media).
    StreamSpec("LINKTOR_MEDIA", ("linktor.media.>",)),
    StreamSpec(
        "LINKTOR_EVENTS", ("linktor.events.>",), max_age_seconds=7 * 86400, work_queue=False
    ),
)


class BusError(Exception):
    """The bus could not be reached or refused the operation."""


@dataclass
class Delivery:
    """A durable message handed to a consumer. Exactly one of ack/nak/term must be called;
    if the handler returns without calling any, the bus acks; if it raises, the bus naks."""

    subject: str
    data: bytes
    msg_id: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    # 1 on the first delivery, more on redeliveries.
    attempt: int = 1
    _settle: Callable[[str, float], Awaitable[None]] | None = field(default=None, repr=False)
    settled: bool = field(default=False, repr=False)

    async def ack(self) -> None:
        """Done: never deliver this message again."""
        await self._do("ack", 0.0)

    async def nak(self, delay: float = 0.0) -> None:
        """Not done: deliver it again after ``delay`` seconds."""
        await self._do("nak", delay)

    async def term(self) -> None:
        """Give up on it: never deliver it again (poison message)."""
        await self._do("term", 0.0)

    async def in_progress(self) -> None:
        """Still working on it: extend the ack deadline."""
        if self._settle is not None and not self.settled:
            await self._settle("progress", 0.0)

    async def _do(self, action: str, delay: float) -> None:
        if self.settled:
            return
        self.settled = True
        if self._settle is not None:
            await self._settle(action, delay)


DeliveryHandler = Callable[[Delivery], Awaitable[None]]
BroadcastHandler = Callable[[str, bytes], Awaitable[None]]


class Subscription(Protocol):
    """A running consumer or listener."""

    async def stop(self) -> None:
        """Stop receiving; in-flight handlers finish first."""
        ...


class EventBus(Protocol):
    """The bus the use cases and workers depend on."""

    async def start(self) -> None:
        """Connect and create the streams of :data:`STREAMS` idempotently."""
        ...

    async def close(self) -> None:
        """Stop every subscription (letting in-flight handlers finish) and disconnect."""
        ...

    async def ping(self) -> None:
        """Raise BusError unless the bus is reachable (readiness probe)."""
        ...

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        """Store a durable message; return when it is persisted.

        Returns False when ``msg_id`` was already published within the duplicate window
        (the message is then not stored twice). Raises BusError when the subject belongs
        to no stream or the bus is unavailable.
        """
        ...

    async def consume(
        self,
        subject: str,
        durable: str,
        handler: DeliveryHandler,
        *,
        max_in_flight: int = 64,
        ack_wait_seconds: float = 30.0,
        max_deliver: int = -1,
    ) -> Subscription:
        """Run ``handler`` for every durable message matching ``subject``.

        Consumers sharing a ``durable`` name share the work: each message goes to one of
        them. A message not settled within ``ack_wait_seconds`` is redelivered. With
        ``max_deliver`` > 0 a message is dropped after that many deliveries.

        ``max_in_flight`` bounds this subscription's running handlers. ``max_in_flight=1`` is
        the ordered mode: the whole durable then has at most one unacknowledged message, so
        messages are handled strictly in order, a nak'd one holding back the next. (The
        settings of the last ``consume`` call on a durable win.)
        """
        ...

    async def broadcast(self, subject: str, data: bytes) -> None:
        """Send an ephemeral message to every current listener (all replicas)."""
        ...

    async def listen(self, subject: str, handler: BroadcastHandler) -> Subscription:
        """Receive ephemeral messages matching ``subject`` (a pattern)."""
        ...
