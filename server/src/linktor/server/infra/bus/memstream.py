"""In-memory streams and durable consumer groups of the embedded bus.

Pure bookkeeping driven by the caller's clock (no tasks, no I/O), modelled on JetStream: a
stream stores messages by sequence number and remembers recent msg_ids; a consumer group
(one durable name) walks the stream with a cursor, hands each matching message to one of its
subscriptions, and redelivers it after a nak or when its ack deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from linktor.server.infra.bus.port import BusError, StreamSpec
from linktor.server.infra.bus.subjects import matches, overlap

log = logging.getLogger("linktor.bus")


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    subject: str
    data: bytes
    msg_id: str | None
    headers: Mapping[str, str]
    stored_at: float


@dataclass(frozen=True)
class Handout:
    """A message handed to one subscription, with its delivery count."""

    message: StoredMessage
    attempt: int


class MemoryStream:
    """One stream: messages by sequence (insertion order = sequence order) and recent msg_ids."""

    def __init__(self, spec: StreamSpec, *, max_messages: int, max_dedupe_ids: int) -> None:
        self.spec = spec
        self.messages: dict[int, StoredMessage] = {}
        self.next_seq = 1
        self.groups: dict[str, ConsumerGroup] = {}
        self._max_messages = max_messages
        self._max_dedupe_ids = max_dedupe_ids
        self._recent_ids: OrderedDict[str, float] = OrderedDict()

    def first_seq(self) -> int:
        return next(iter(self.messages), self.next_seq)

    def store(
        self,
        subject: str,
        data: bytes,
        msg_id: str | None,
        headers: Mapping[str, str],
        now: float,
    ) -> bool:
        """Append a message; False when ``msg_id`` is a duplicate within the window."""
        self.expire(now)
        if msg_id is not None and msg_id in self._recent_ids:
            return False
        if len(self.messages) >= self._max_messages:
            if self.spec.work_queue:
                # Dropping unacknowledged work would lose it: push back on the publisher.
                raise BusError(
                    f"stream {self.spec.name} is full ({len(self.messages)} unacknowledged "
                    "messages); retry later"
                )
            del self.messages[self.first_seq()]  # a log: the oldest entry goes
        seq = self.next_seq
        self.next_seq += 1
        self.messages[seq] = StoredMessage(seq, subject, data, msg_id, dict(headers), now)
        if msg_id is not None:
            self._recent_ids[msg_id] = now
            if len(self._recent_ids) > self._max_dedupe_ids:
                self._recent_ids.popitem(last=False)
        for group in self.groups.values():
            if matches(group.pattern, subject):
                group.notify()
        return True

    def expire(self, now: float) -> None:
        """Forget msg_ids older than the duplicate window and messages older than max_age."""
        window = self.spec.duplicate_window_seconds
        while self._recent_ids:
            msg_id, stored_at = next(iter(self._recent_ids.items()))
            if stored_at + window > now:
                break
            del self._recent_ids[msg_id]
        max_age = self.spec.max_age_seconds
        if max_age > 0:
            while self.messages:
                first = next(iter(self.messages.values()))
                if first.stored_at + max_age > now:
                    break
                del self.messages[first.seq]

    def remove(self, seq: int) -> None:
        self.messages.pop(seq, None)

    def group(
        self,
        durable: str,
        pattern: str,
        *,
        ack_wait: float,
        max_deliver: int,
        max_ack_pending: int,
    ) -> ConsumerGroup:
        """The consumer group ``durable``, created or reconfigured (like a JetStream update)."""
        if self.spec.work_queue:
            for name, other in self.groups.items():
                if name != durable and overlap(pattern, other.pattern):
                    # JetStream refuses this too: on a work queue each message has one owner.
                    raise BusError(
                        f"durable {durable!r} ({pattern}) overlaps durable {name!r} "
                        f"({other.pattern}) on work-queue stream {self.spec.name}"
                    )
        group = self.groups.get(durable)
        if group is None:
            group = self.groups[durable] = ConsumerGroup(self, pattern)
        group.pattern = pattern
        group.ack_wait = ack_wait
        group.max_deliver = max_deliver
        group.max_ack_pending = max_ack_pending
        return group


class ConsumerGroup:
    """The shared state of every subscription using one durable name on one stream."""

    def __init__(self, stream: MemoryStream, pattern: str) -> None:
        self.pattern = pattern
        self.ack_wait = 30.0
        self.max_deliver = -1
        # Handed out and not yet done (in a handler or awaiting redelivery), as in JetStream;
        # -1: no limit.
        self.max_ack_pending = -1
        self._stream = stream
        self._cursor = stream.first_seq()  # next sequence never handed out
        self._deliveries: dict[int, int] = {}  # seq -> deliveries, while not done
        self._ack_deadlines: dict[int, float] = {}  # seq -> deadline, while handed out
        self._retry: list[tuple[float, int]] = []  # heap of (ready_at, seq)
        self._wakeup = asyncio.Event()
        self._turns: deque[asyncio.Future[None]] = deque()  # subscriptions waiting, in order

    async def next_handout(self, clock: Callable[[], float]) -> Handout:
        """Wait for the next message; subscriptions take turns in the order they asked, so
        the subscriptions of one durable share the work (as JetStream serves pull requests)."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        try:
            if self._turns[0] is not turn:
                await turn
            while True:
                handout = self.take(clock())
                if handout is not None:
                    return handout
                await self.wait(self.seconds_until_due(clock()))
        finally:
            self._turns.remove(turn)
            if self._turns and not self._turns[0].done():
                self._turns[0].set_result(None)

    def take(self, now: float) -> Handout | None:
        """The next message to hand out: a due redelivery first, then the next new one."""
        self._stream.expire(now)
        self._expire_deadlines(now)
        while self._retry and self._retry[0][0] <= now:
            _, seq = heapq.heappop(self._retry)
            if seq not in self._deliveries or seq in self._ack_deadlines:
                continue  # settled meanwhile by a late ack
            message = self._stream.messages.get(seq)
            if message is None:
                self._forget(seq)  # aged out of the stream
                continue
            return self._hand_out(message, now)
        if 0 < self.max_ack_pending <= len(self._deliveries):
            return None
        self._cursor = max(self._cursor, self._stream.first_seq())
        while self._cursor < self._stream.next_seq:
            message = self._stream.messages.get(self._cursor)
            self._cursor += 1
            if message is not None and matches(self.pattern, message.subject):
                return self._hand_out(message, now)
        return None

    def seconds_until_due(self, now: float) -> float | None:
        """When :meth:`take` may next find something without a new publish (None: never)."""
        due = list(self._ack_deadlines.values())
        if self._retry:
            due.append(self._retry[0][0])
        return max(0.0, min(due) - now) if due else None

    def settle(self, seq: int, attempt: int, action: str, delay: float, now: float) -> None:
        if seq not in self._deliveries:
            return  # already done
        current = self._deliveries[seq] == attempt and seq in self._ack_deadlines
        if action in ("ack", "term"):
            # Any delivery may finish the message, even one whose ack deadline passed.
            self._done(seq)
        elif action == "nak" and current:
            del self._ack_deadlines[seq]
            self._requeue(seq, now + max(0.0, delay))
        elif action == "progress" and current:
            self._ack_deadlines[seq] = now + self.ack_wait

    async def wait(self, at_most: float | None) -> None:
        """Until something changed (a publish, a nak) or ``at_most`` seconds passed."""
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
        # arrives as the event fires, and stop() would then wait forever for this task.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await self._wakeup.wait()

    def notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _hand_out(self, message: StoredMessage, now: float) -> Handout:
        attempt = self._deliveries.get(message.seq, 0) + 1
        self._deliveries[message.seq] = attempt
        self._ack_deadlines[message.seq] = now + self.ack_wait
        return Handout(message, attempt)

    def _expire_deadlines(self, now: float) -> None:
        for seq, deadline in list(self._ack_deadlines.items()):
            if deadline <= now:
                del self._ack_deadlines[seq]
                self._requeue(seq, deadline)

    def _requeue(self, seq: int, ready_at: float) -> None:
        if 0 < self.max_deliver <= self._deliveries[seq]:
            log.warning(
                "bus message dropped after max_deliver deliveries",
                extra={"stream": self._stream.spec.name, "seq": seq},
            )
            self._done(seq)
            return
        heapq.heappush(self._retry, (ready_at, seq))
        self.notify()

    def _done(self, seq: int) -> None:
        self._forget(seq)
        if self._stream.spec.work_queue:
            self._stream.remove(seq)
        self.notify()  # a subscription may be waiting for max_ack_pending to allow more

    def _forget(self, seq: int) -> None:
        self._deliveries.pop(seq, None)
        self._ack_deadlines.pop(seq, None)
