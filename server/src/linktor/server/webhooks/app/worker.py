"""Delivery workers: send due deliveries to their endpoints and record every attempt.

The database is the queue. A worker claims due deliveries with a lease (PostgreSQL skips rows
another worker is claiming, SQLite serializes writers), so no two workers — in this process or
another replica — send the same attempt at once; a worker that dies leaves a lease that
expires, and the delivery is claimed again. Pending deliveries therefore survive restarts.

Each request is signed per Standard Webhooks; its outcome moves the delivery on (succeeded,
retried on the schedule, failed) and says whether the endpoint is healthy, failing (disabled
after 5 days of nothing but failures) or gone (410: disabled at once). Attempts are recorded
in batches, one transaction for many.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version

from linktor.server.infra.batching import Batcher
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.logs import get_logger
from linktor.server.shared.clock import Clock
from linktor.server.webhooks.app.ports import (
    AttemptResult,
    OutgoingRequest,
    Sender,
    WebhookStore,
)
from linktor.server.webhooks.app.secrets import EndpointSecrets, UnreadableSecret
from linktor.server.webhooks.domain.delivery import (
    Attempt,
    Delivery,
    EndpointVerdict,
    Response,
    outcome,
)
from linktor.server.webhooks.domain.endpoint import (
    DISABLE_AFTER_FAILING_FOR,
    FAILING_REASON,
    GONE_REASON,
    WebhookEndpoint,
)
from linktor.server.webhooks.domain.events import EndpointDisabled
from linktor.server.webhooks.domain.schedule import RetrySchedule
from linktor.server.webhooks.domain.signature import signature_header

log = get_logger(__name__)

# A worker holds a claimed delivery this long: far more than a request may take (15 s).
LEASE = timedelta(seconds=60)
# Requests per second to an endpoint that sets no rate limit.
DEFAULT_RATE_PER_SECOND = 50.0
# How long stop() lets requests in flight finish before abandoning them (their leases
# expire and they are sent again: at least once, with the same webhook-id).
STOP_GRACE_SECONDS = 5.0


def _user_agent() -> str:
    try:
        return f"Linktor-Webhooks/{version('linktor-server')}"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "Linktor-Webhooks/dev"


USER_AGENT = _user_agent()


def signed_headers(
    endpoint: WebhookEndpoint,
    delivery: Delivery,
    signing_secrets: Sequence[str],
    timestamp: int,
) -> dict[str, str]:
    """The request headers: the endpoint's own, then Linktor's (which always win)."""
    return {
        **endpoint.headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            signing_secrets, delivery.webhook_id, timestamp, delivery.body
        ),
    }


class DeliveryWorker:
    def __init__(
        self,
        store: WebhookStore,
        sender: Sender,
        secrets: EndpointSecrets,
        rate_limiter: RateLimiter,
        clock: Clock,
        *,
        concurrency: int = 64,
        poll_seconds: float = 1.0,
        wall_time: Callable[[], float] = time.time,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._secrets = secrets
        self._limiter = rate_limiter
        self._clock = clock
        self._concurrency = concurrency
        self._poll = poll_seconds
        # The webhook-timestamp is the wall-clock second the request leaves, whatever clock
        # schedules the deliveries: receivers compare it with their own clock (5 min window).
        self._wall_time = wall_time
        # Events were recorded (an endpoint disabled): the outbox relay should look now.
        self._on_commit = on_commit
        self._records: Batcher[AttemptResult, None] = Batcher(self._record_batch)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    def wake(self) -> None:
        """Deliveries were queued or became due: claim now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping.clear()
        self._loop = asyncio.create_task(self._run(), name="webhook-workers")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._loop is not None:
            await self._loop
        if self._in_flight:
            _done, pending = await asyncio.wait(self._in_flight, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            free = self._concurrency - len(self._in_flight)
            claimed: list[tuple[Delivery, WebhookEndpoint]] = []
            # Busy: claim once a quarter of the slots is free rather than per freed slot (each
            # claim is a write transaction, and SQLite has one writer at a time).
            worth_claiming = free >= max(1, self._concurrency // 4) or not self._in_flight
            if free > 0 and not worth_claiming:
                self._wake.clear()
            elif free > 0:
                self._wake.clear()
                try:
                    claimed = await self._claim(free)
                except Exception as exc:
                    log.warning(
                        "claiming webhook deliveries failed", error=str(exc) or type(exc).__name__
                    )
            for delivery, endpoint in claimed:
                task = asyncio.create_task(self._deliver(delivery, endpoint))
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
            if worth_claiming and free > 0 and len(claimed) == free:
                continue  # more may be due right away
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # a slot is free
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery task failed", error=repr(task.exception()))

    async def _claim(self, limit: int) -> list[tuple[Delivery, WebhookEndpoint]]:
        now = self._clock.now()
        async with self._store.privileged() as uow:
            deliveries = await uow.deliveries.claim_due(now, now + LEASE, limit)
            endpoints = await uow.endpoints.by_ids(sorted({d.endpoint_id for d in deliveries}))
            await uow.commit()
        return [(d, endpoints[d.endpoint_id]) for d in deliveries if d.endpoint_id in endpoints]

    # ------------------------------------------------------------------ one delivery

    async def _deliver(self, delivery: Delivery, endpoint: WebhookEndpoint) -> None:
        rate, burst = endpoint.rate_limit.effective(DEFAULT_RATE_PER_SECOND)
        decision = await self._limiter.acquire(f"webhook:{endpoint.id}", rate=rate, burst=burst)
        if not decision.allowed:
            until = self._clock.now() + timedelta(seconds=decision.retry_after)
            async with self._store.privileged() as uow:
                await uow.deliveries.postpone([delivery.id], until)
                await uow.commit()
            return
        await self._records.submit(await self.attempt(delivery, endpoint))

    async def deliver_now(self, delivery_id: str) -> bool:
        """Claim one delivery and make its next attempt at once (test sends, replays),
        ignoring the endpoint's rate limit; False when it could not be claimed."""
        now = self._clock.now()
        async with self._store.privileged() as uow:
            delivery = await uow.deliveries.claim(delivery_id, now, now + LEASE)
            endpoints = await uow.endpoints.by_ids([delivery.endpoint_id] if delivery else [])
            await uow.commit()
        if delivery is None or delivery.endpoint_id not in endpoints:
            return False
        await self._records.submit(await self.attempt(delivery, endpoints[delivery.endpoint_id]))
        return True

    async def attempt(self, delivery: Delivery, endpoint: WebhookEndpoint) -> AttemptResult:
        """Make the next attempt of a claimed delivery; what to record."""
        number = delivery.attempt_count + 1
        started = self._clock.now()
        try:
            signing = self._secrets.signing(endpoint, started)
        except UnreadableSecret as exc:
            response = Response(0, timedelta(0), error=exc.message)
        else:
            headers = signed_headers(endpoint, delivery, signing, int(self._wall_time()))
            response = await self._sender.send(
                OutgoingRequest(endpoint.url, delivery.body, headers)
            )
        schedule = RetrySchedule.of(endpoint.retry_schedule)
        result = outcome(delivery, number, response, schedule, self._clock.now())
        attempt = Attempt(
            delivery.id,
            number,
            started,
            response.status,
            response.latency,
            response.body,
            response.error,
        )
        return AttemptResult(
            delivery, attempt, result.state, result.next_attempt_time, result.endpoint
        )

    # ------------------------------------------------------------------ recording

    async def _record_batch(self, results: Sequence[AttemptResult]) -> list[None]:
        now = self._clock.now()
        async with self._store.privileged() as uow:
            stored = await uow.deliveries.record(results, now)
            kept = [r for r, ok in zip(results, stored, strict=True) if ok]
            healthy = {
                r.delivery.endpoint_id for r in kept if r.endpoint is EndpointVerdict.HEALTHY
            }
            gone = {r.delivery.endpoint_id for r in kept if r.endpoint is EndpointVerdict.GONE}
            # One success in the batch shows the endpoint alive, whatever else failed.
            failing = {r.delivery.endpoint_id for r in kept} - healthy
            await uow.endpoints.mark_healthy(sorted(healthy))
            await uow.endpoints.mark_failing(sorted(failing), now)
            disabled = await uow.endpoints.disable(sorted(gone - healthy), GONE_REASON, now)
            disabled += await uow.endpoints.disable(
                sorted(failing - gone),
                FAILING_REASON,
                now,
                failing_before=now - DISABLE_AFTER_FAILING_FOR,
            )
            for endpoint in disabled:
                await uow.events.record(EndpointDisabled(endpoint))
            await uow.commit()
        for endpoint in disabled:
            log.warning(
                "webhook endpoint disabled", endpoint=endpoint.name, reason=endpoint.disabled_reason
            )
        if disabled:
            self._on_commit()
        return [None] * len(results)
