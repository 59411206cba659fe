"""Delivery workers: hand accepted messages to their channel's adapter (DESIGN §4).

A work item from the bus names a message. The worker claims it in the database (a lease, and
only when no earlier message of its conversation is still pending, which keeps per-conversation
order across workers and replicas), waits for the channel's token bucket, calls the adapter,
and records the attempt and the new status (in batches: one transaction for many messages).
Only then is the work item acknowledged: a crash before that redelivers it, and the claim's
lease keeps two workers from sending the same message at once.

Retryable failures are retried with exponential backoff and jitter, never sooner than the
provider's retry_after; after the policy's attempts or age the message is FAILED. Every
attempt is recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import grpc

from linktor.adapter.v1 import adapter_pb2
from linktor.server.infra.batching import Batcher
from linktor.server.infra.bus.port import Delivery, EventBus, Subscription
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.logs import get_logger
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.channels import ChannelInfo, ChannelLookup
from linktor.server.messaging.app.delivery_queue import OUTBOUND_SUBJECTS, WorkItem
from linktor.server.messaging.app.outbound_media import MediaUploadFailed, OutboundMedia
from linktor.server.messaging.app.ports import DeliveryResult
from linktor.server.messaging.domain import errors as codes
from linktor.server.messaging.domain.errors import DeliveryError
from linktor.server.messaging.domain.events import MessageUpdated
from linktor.server.messaging.domain.message import Attempt, Message
from linktor.server.messaging.domain.retry import RetryPolicy
from linktor.server.messaging.domain.status import MessageStatus
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import DomainError
from linktor.v1 import common_pb2, message_pb2

log = get_logger(__name__)

DURABLE = "delivery"
# While a worker holds a message nobody else sends it; longer than any adapter call.
LEASE = timedelta(seconds=60)
SEND_TIMEOUT_SECONDS = 30.0
# How long to wait before looking again at a message another worker holds, or whose
# conversation has an earlier message still in flight: doubling with each look, up to the
# maximum. The conversation's chain (below) usually sends it long before.
BUSY_RETRY_SECONDS = 0.25
MAX_BUSY_RETRY_SECONDS = 5.0
# After sending a message, the worker sends the conversation's next pending ones itself, at
# most this many in a row, instead of leaving each to its work item's next redelivery.
CHAIN_LIMIT = 100
# Waiting for the channel's token bucket inside the lease, at most this long at once.
MAX_RATE_WAIT_SECONDS = 5.0

_STATUS_OF = {
    message_pb2.MESSAGE_STATUS_SENT: MessageStatus.SENT,
    message_pb2.MESSAGE_STATUS_DELIVERED: MessageStatus.DELIVERED,
    message_pb2.MESSAGE_STATUS_READ: MessageStatus.READ,
}


@dataclass(frozen=True)
class Claim:
    """A claim's answer for one message: the message when this worker got it, else whether
    it is still pending (busy elsewhere or blocked) and when its next attempt is due."""

    message: Message | None
    pending: bool
    next_attempt_time: datetime | None


@dataclass(frozen=True)
class Outcome:
    """What the worker does with the work item after recording."""

    ack: bool
    delay: float = 0.0


class DeliveryWorker:
    def __init__(
        self,
        uow: Callable[[], SqlMessagingUnitOfWork],
        bus: EventBus,
        channels: ChannelLookup,
        adapters: AdapterProvider,
        rate_limiter: RateLimiter,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        concurrency: int = 256,
        on_commit: Callable[[], None] = lambda: None,
        media: OutboundMedia | None = None,
    ) -> None:
        self._uow = uow
        self._bus = bus
        # Uploads attachments to the adapter before Send (None: content goes as stored).
        self._media = media
        self._channels = channels
        self._adapters = adapters
        self._limiter = rate_limiter
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._concurrency = concurrency
        self._on_commit = on_commit
        self._claims: Batcher[str, Claim] = Batcher(self._claim_batch)
        # Chains of many conversations look for their next message in one transaction.
        self._next_claims: Batcher[str, Message | None] = Batcher(self._claim_next_batch)
        self._results: Batcher[DeliveryResult, None] = Batcher(self._record_batch)
        self._subscription: Subscription | None = None
        # Conversations this process is sending in order right now, and the tasks doing it.
        self._chained: set[str] = set()
        self._chains: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._subscription = await self._bus.consume(
            OUTBOUND_SUBJECTS,
            DURABLE,
            self.handle,
            max_in_flight=self._concurrency,
            ack_wait_seconds=LEASE.total_seconds(),
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
        for task in list(self._chains):
            task.cancel()
        if self._chains:
            await asyncio.gather(*self._chains, return_exceptions=True)

    async def handle(self, delivery: Delivery) -> None:
        item = WorkItem.decode(delivery.data)
        outcome = await self.deliver(item, looks=delivery.attempt)
        if outcome.ack:
            await delivery.ack()
        else:
            await delivery.nak(outcome.delay)

    async def deliver(self, item: WorkItem, *, looks: int = 1) -> Outcome:
        claim = await self._claims.submit(item.message_id)
        message = claim.message
        if message is None:
            return self._unclaimed(claim, looks)
        outcome = await self._deliver_claimed(message)
        if outcome.ack:
            self._chain_from(message)
        return outcome

    def _chain_from(self, done: Message) -> None:
        """Send the conversation's next pending messages now, in order, from this worker."""
        if done.conversation_id in self._chained:
            return
        self._chained.add(done.conversation_id)
        task = asyncio.create_task(self._follow(done))
        self._chains.add(task)

        def finished(t: asyncio.Task[None]) -> None:
            self._chains.discard(t)
            self._chained.discard(done.conversation_id)
            if not t.cancelled() and t.exception() is not None:
                log.warning("conversation chain failed", error=str(t.exception()))

        task.add_done_callback(finished)

    async def _follow(self, done: Message) -> None:
        current = done
        for _ in range(CHAIN_LIMIT):
            following = await self._next_claims.submit(current.conversation_id)
            if following is None:
                return
            outcome = await self._deliver_claimed(following)
            if not outcome.ack:
                return  # retrying or waiting: its work item takes over
            current = following

    async def _deliver_claimed(self, message: Message) -> Outcome:
        channel = await self._channels.get(message.tenant_id, message.channel_id)
        if channel is None:
            error = DeliveryError(codes.CHANNEL_DELETED, "the channel was deleted", False)
            return await self._finish(self._failed(message, error, 0.0, None))
        if not channel.enabled:
            await self._release(message, delay=30.0)
            return Outcome(ack=False, delay=30.0)
        waited = await self._wait_for_rate(channel)
        if waited is not None:
            await self._release(message, delay=waited)
            return Outcome(ack=False, delay=waited)
        return await self._finish(await self._attempt(message, channel))

    def _unclaimed(self, claim: Claim, looks: int) -> Outcome:
        """The claim failed: done already (ack) or busy elsewhere (look again later)."""
        if not claim.pending:
            return Outcome(ack=True)
        if claim.next_attempt_time is not None:
            wait = (claim.next_attempt_time - self._clock.now()).total_seconds()
            if wait > BUSY_RETRY_SECONDS:
                return Outcome(ack=False, delay=wait)
        delay = min(MAX_BUSY_RETRY_SECONDS, BUSY_RETRY_SECONDS * 2 ** max(0, looks - 1))
        return Outcome(ack=False, delay=delay)

    async def _wait_for_rate(self, channel: ChannelInfo) -> float | None:
        """Take a token from the channel's bucket, waiting briefly; the delay to come back
        after when the wait would be too long."""
        rate = channel.rate_per_second or 80.0
        burst = channel.burst or max(1, round(rate))
        deadline = time.monotonic() + MAX_RATE_WAIT_SECONDS
        while True:
            decision = await self._limiter.acquire(f"channel:{channel.id}", rate=rate, burst=burst)
            if decision.allowed:
                return None
            if time.monotonic() + decision.retry_after > deadline:
                return decision.retry_after
            await asyncio.sleep(decision.retry_after)

    async def _attempt(self, message: Message, channel: ChannelInfo) -> DeliveryResult:
        number = message.attempt_count + 1
        started_at = self._clock.now()
        started = time.monotonic()
        request = adapter_pb2.SendRequest(
            channel=channel.config,
            message_id=message.name,
            recipient=message.address,
            content=message.delivered_content or message.content,
            attempt=number,
            metadata=message.metadata,
        )
        if message.reply_to_id:
            request.reply_to_provider_message_id = await self._provider_id_of(message)
        reaction = request.content.reaction
        if request.content.WhichOneof("kind") == "reaction" and not reaction.provider_message_id:
            # Providers name the message reacted to by their own id, known only once it was
            # sent (outbound) or stored (inbound).
            reaction.provider_message_id = await self._reacted_to(message, reaction.message)
        try:
            adapter = await self._adapters.acquire(
                channel_type_number(channel), address=channel.adapter_address
            )
            if self._media is not None:
                await self._media.prepare(message, channel, request.content, adapter.stub)
            call = adapter.stub.Send(request, timeout=SEND_TIMEOUT_SECONDS)
            # The generated stub is typed for sync channels; ours is a grpc.aio channel.
            response = await cast(Awaitable[adapter_pb2.SendResponse], call)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this worker is being stopped
            # grpc.aio cancels calls in flight when the adapter's channel closes (the host
            # replacing a crashed adapter): a failed attempt, not a cancellation of ours.
            error = DeliveryError(codes.ADAPTER_ERROR, "the adapter connection closed", True)
            return self._retry_or_fail(message, number, started_at, started, error, None)
        except grpc.aio.AioRpcError as exc:
            code = (
                codes.TIMEOUT
                if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                else codes.ADAPTER_ERROR
            )
            error = DeliveryError(
                code, f"adapter call failed: {exc.code().name}: {exc.details()}", True
            )
            return self._retry_or_fail(message, number, started_at, started, error, None)
        except DomainError as exc:
            error = DeliveryError(codes.ADAPTER_UNAVAILABLE, exc.message, True)
            return self._retry_or_fail(message, number, started_at, started, error, None)
        except MediaUploadFailed as exc:
            if exc.error.retryable:
                return self._retry_or_fail(
                    message, number, started_at, started, exc.error, exc.retry_after
                )
            duration = time.monotonic() - started
            return self._failed(message, exc.error, duration, None, number, started_at)
        duration = time.monotonic() - started
        if response.HasField("error"):
            err = response.error.error
            error = DeliveryError(
                err.code or codes.ADAPTER_ERROR,
                err.message,
                err.retryable,
                err.provider_code,
                err.provider_message,
            )
            retry_after = response.error.retry_after.ToTimedelta().total_seconds() or None
            if error.retryable:
                return self._retry_or_fail(message, number, started_at, started, error, retry_after)
            return self._failed(message, error, duration, None, number, started_at)
        status = _STATUS_OF.get(response.status, MessageStatus.SENT)
        attempt = Attempt(message.id, number, started_at, round(duration * 1000), "SUCCEEDED")
        return DeliveryResult(
            message=message,
            attempt=attempt,
            status=status,
            provider_message_id=response.provider_message_id or None,
        )

    def _retry_or_fail(
        self,
        message: Message,
        number: int,
        started_at: datetime,
        started: float,
        error: DeliveryError,
        retry_after: float | None,
    ) -> DeliveryResult:
        duration = time.monotonic() - started
        delay = self._policy.delay(number, retry_after)
        next_time = self._clock.now() + timedelta(seconds=delay)
        reason = self._policy.gives_up(number, message.create_time, next_time)
        if reason is not None:
            final = DeliveryError(
                codes.MAX_ATTEMPTS_EXCEEDED if "attempts" in reason else codes.EXPIRED,
                f"{reason}; last error: {error.code}: {error.message}",
                False,
                error.provider_code,
                error.provider_message,
            )
            return self._failed(message, final, duration, retry_after, number, started_at)
        attempt = Attempt(
            message.id,
            number,
            started_at,
            round(duration * 1000),
            "RETRYING",
            error,
            round(retry_after * 1000) if retry_after else None,
            next_time,
        )
        return DeliveryResult(message, attempt, None, error=error, next_attempt_time=next_time)

    def _failed(
        self,
        message: Message,
        error: DeliveryError,
        duration: float,
        retry_after: float | None,
        number: int | None = None,
        started_at: datetime | None = None,
    ) -> DeliveryResult:
        attempt = Attempt(
            message.id,
            number or message.attempt_count + 1,
            started_at or self._clock.now(),
            round(duration * 1000),
            "FAILED",
            error,
            round(retry_after * 1000) if retry_after else None,
        )
        return DeliveryResult(message, attempt, MessageStatus.FAILED, error=error)

    async def _finish(self, result: DeliveryResult) -> Outcome:
        await self._results.submit(result)
        if result.attempt.outcome == "RETRYING" and result.next_attempt_time is not None:
            delay = (result.next_attempt_time - self._clock.now()).total_seconds()
            return Outcome(ack=False, delay=max(delay, 0.0))
        return Outcome(ack=True)

    async def _release(self, message: Message, delay: float) -> None:
        """Give the lease back without an attempt (channel disabled, rate limited)."""
        async with self._uow() as uow:
            await uow.messages.release(message.id, self._clock.now() + timedelta(seconds=delay))
            await uow.commit()

    async def _provider_id_of(self, message: Message) -> str:
        assert message.reply_to_id is not None
        async with self._uow() as uow:
            quoted = await uow.messages.get(message.tenant_id, message.reply_to_id)
        return (quoted.provider_message_id or "") if quoted else ""

    async def _reacted_to(self, message: Message, target_name: str) -> str:
        async with self._uow() as uow:
            target = await uow.messages.get(message.tenant_id, target_name.rsplit("/", 1)[-1])
        return (target.provider_message_id or "") if target else ""

    async def _claim_batch(self, message_ids: Sequence[str]) -> list[Claim]:
        """Claim a batch; for the messages not claimed, where they stand (in the same
        transaction: a redelivery storm of busy messages costs no connection each)."""
        now = self._clock.now()
        async with self._uow() as uow:
            claimed = await uow.messages.claim(message_ids, now, now + LEASE)
            by_id = {m.id: m for m in claimed}
            taken = set(by_id)
            others = await uow.messages.pending_states([i for i in message_ids if i not in by_id])
            await uow.commit()
        # One id may come twice in a batch (a redelivery racing the first delivery): only the
        # first gets the claim, the other is "busy elsewhere" — two attempts with the same
        # number would fail the whole batch of results on the attempts' unique key.
        claims: list[Claim] = []
        for message_id in message_ids:
            message = by_id.pop(message_id, None)
            if message is not None:
                claims.append(Claim(message, True, None))
            else:
                # A repeated id that this batch claimed is pending (busy here); an id that
                # is not in the table at all is not (its work item is simply dropped).
                pending, due = others.get(message_id, (message_id in taken, None))
                claims.append(Claim(None, pending, due))
        return claims

    async def _claim_next_batch(self, conversation_ids: Sequence[str]) -> list[Message | None]:
        now = self._clock.now()
        async with self._uow() as uow:
            claimed = await uow.messages.claim_next_many(conversation_ids, now, now + LEASE)
            await uow.commit()
        return [claimed.get(conversation_id) for conversation_id in conversation_ids]

    async def _record_batch(self, results: Sequence[DeliveryResult]) -> list[None]:
        now = self._clock.now()
        async with self._uow() as uow:
            changed = await uow.messages.record(results, now)
            for message in changed:
                await uow.events.record(MessageUpdated(message))
            await uow.commit()
        if changed:
            self._on_commit()
        return [None] * len(results)


def channel_type_number(channel: ChannelInfo) -> int:
    return int(common_pb2.ChannelType.Value(f"CHANNEL_TYPE_{channel.type.value}"))
