"""Small helpers of the infra tests: waiting for a condition, recording deliveries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from linktor.server.infra.bus.port import Delivery, EventBus, StreamSpec
from linktor.server.infra.cache.port import RateLimiter

BusFactory = Callable[..., Awaitable[EventBus]]
"""make_bus(**options): a started bus of the test's backend on the test's streams."""
LimiterFactory = Callable[[], RateLimiter]


async def wait_until(
    condition: Callable[[], bool], *, within: float = 10.0, what: str = ""
) -> None:
    """Poll ``condition`` every 10 ms; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or condition}")
        await asyncio.sleep(0.01)


@dataclass(frozen=True)
class Seen:
    """One delivery as a handler saw it."""

    subject: str
    data: bytes
    msg_id: str | None
    headers: dict[str, str]
    attempt: int
    at: float


@dataclass
class Recorder:
    """Remembers every delivery handed to :meth:`record`."""

    seen: list[Seen] = field(default_factory=list)

    def record(self, delivery: Delivery) -> Seen:
        entry = Seen(
            delivery.subject,
            delivery.data,
            delivery.msg_id,
            dict(delivery.headers),
            delivery.attempt,
            time.monotonic(),
        )
        self.seen.append(entry)
        return entry

    async def handler(self, delivery: Delivery) -> None:
        """A handler that records and returns (so the bus acks)."""
        self.record(delivery)

    @property
    def data(self) -> list[bytes]:
        return [entry.data for entry in self.seen]

    def attempts_of(self, data: bytes) -> list[int]:
        return [entry.attempt for entry in self.seen if entry.data == data]


@dataclass(frozen=True)
class StreamSet:
    """Streams of one test: a work queue, a work queue with a 1 s dedupe window, a log."""

    prefix: str

    @property
    def work(self) -> StreamSpec:
        return StreamSpec(f"{self.prefix.upper()}_WORK", (f"{self.prefix}.work.>",))

    @property
    def short(self) -> StreamSpec:
        return StreamSpec(
            f"{self.prefix.upper()}_SHORT",
            (f"{self.prefix}.short.>",),
            duplicate_window_seconds=1,
        )

    @property
    def events(self) -> StreamSpec:
        return StreamSpec(
            f"{self.prefix.upper()}_EVENTS",
            (f"{self.prefix}.events.>",),
            max_age_seconds=300,
            work_queue=False,
            duplicate_window_seconds=60,
        )

    @property
    def specs(self) -> tuple[StreamSpec, ...]:
        return (self.work, self.short, self.events)

    def subject(self, *tokens: str) -> str:
        """``<prefix>.<tokens...>``, e.g. ``subject("work", "sms")``."""
        return ".".join((self.prefix, *tokens))
