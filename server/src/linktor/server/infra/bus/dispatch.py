"""How handlers run, identically on both buses: settling what a durable handler left open,
and a bounded per-listener queue for ephemeral messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from linktor.server.infra.bus.port import BroadcastHandler, Delivery, DeliveryHandler

log = logging.getLogger("linktor.bus")

# A handler that raises is retried with this backoff (seconds, doubling per attempt): a bug or a
# poison message must not spin the CPU, yet a transient error is retried quickly.
ERROR_BACKOFF_FIRST = 0.1
ERROR_BACKOFF_MAX = 30.0


def ack_pending_limit(max_in_flight: int) -> int:
    """How many messages of a durable may be handed out and not yet acked (-1: no limit).

    Local concurrency is bounded by fetching only for free handler slots, so no server-side
    limit is needed for that, and one would hurt: messages nak'd with a delay stay pending,
    and a few hundred of them (a provider outage) would stall every other message. The one
    exception is ``max_in_flight=1``, the ordered mode: then at most one message is out, so a
    nak'd message holds back the next instead of being overtaken.
    """
    return 1 if max_in_flight == 1 else -1


def error_backoff(attempt: int) -> float:
    """Redelivery delay after the ``attempt``-th delivery's handler raised."""
    return float(min(ERROR_BACKOFF_MAX, ERROR_BACKOFF_FIRST * 2 ** max(0, attempt - 1)))


async def run_durable_handler(handler: DeliveryHandler, delivery: Delivery) -> None:
    """Run ``handler``; ack if it returned without settling, nak (with backoff) if it raised.

    Never raises (except cancellation): a failed settle leaves the message to the bus's
    ack_wait redelivery, which is the safe outcome.
    """
    try:
        await handler(delivery)
    except Exception:
        log.exception(
            "bus handler failed; redelivering",
            extra={"subject": delivery.subject, "msg_id": delivery.msg_id},
        )
        if not delivery.settled:
            with contextlib.suppress(Exception):
                await delivery.nak(error_backoff(delivery.attempt))
        return
    if not delivery.settled:
        try:
            await delivery.ack()
        except Exception:
            log.warning(
                "bus ack failed; the message will be redelivered after ack_wait",
                extra={"subject": delivery.subject, "msg_id": delivery.msg_id},
                exc_info=True,
            )


async def finish_handlers(tasks: set[asyncio.Task[None]], grace_seconds: float) -> None:
    """Let running handlers finish; cancel those still running after ``grace_seconds``
    (their messages are then redelivered after ack_wait)."""
    if not tasks:
        return
    _, pending = await asyncio.wait(set(tasks), timeout=grace_seconds)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)


class QueuedListener:
    """One ``listen`` subscription: messages are queued (bounded) and handled one at a time.

    A full queue drops the message: broadcasts are ephemeral, and one slow listener must
    neither block the publisher nor grow memory without bound.
    """

    def __init__(self, pattern: str, handler: BroadcastHandler, *, max_queued: int) -> None:
        self.pattern = pattern
        self._handler = handler
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(max_queued)
        self._busy = False
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._drain())
        self.dropped = 0

    def offer(self, subject: str, data: bytes) -> None:
        if self._stopping:
            return
        try:
            self._queue.put_nowait((subject, data))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "slow bus listener: broadcasts dropped",
                    extra={"pattern": self.pattern, "dropped": self.dropped},
                )

    async def _drain(self) -> None:
        while not self._stopping:
            subject, data = await self._queue.get()
            self._busy = True
            try:
                await self._handler(subject, data)
            except Exception:
                log.exception("bus listener failed", extra={"subject": subject})
            finally:
                self._busy = False

    async def stop(self) -> None:
        """Stop; a handler already running finishes, queued messages are dropped."""
        self._stopping = True
        if asyncio.current_task() is self._task:
            return  # stopped from its own handler: the loop ends when the handler returns
        if not self._busy:
            # Waiting on the queue: nothing in flight, so cancelling loses nothing.
            self._task.cancel()
        await asyncio.wait({self._task})
