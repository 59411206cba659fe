"""A delivery: one event to one endpoint, with its attempts; and what an attempt's outcome
means for the delivery and the endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from linktor.server.webhooks.domain.schedule import RETRY_AFTER_STATUSES, RetrySchedule

# What the delivery log keeps of a response body.
MAX_RESPONSE_BODY_BYTES = 4096
# How long a receiver has to answer (Standard Webhooks' recommendation).
REQUEST_TIMEOUT = timedelta(seconds=15)
TEST_EVENT_TYPE = "webhook.test"


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Delivery:
    id: str
    tenant_id: str
    endpoint_id: str
    # The webhook-id header: the event's, the same for every attempt and replay.
    webhook_id: str
    event_type: str
    # 0 for events outside the event log (webhook.test).
    event_sequence: int
    # The request body (JSON), fixed when the delivery is made.
    body: bytes
    state: DeliveryState
    create_time: datetime
    attempt_count: int = 0
    next_attempt_time: datetime | None = None
    # False for test sends: one attempt only.
    retries: bool = True
    # Fan-out deliveries: the event's sequence, unique per endpoint, so an event handed over
    # twice makes one delivery. None for replays and test sends.
    dedupe_key: str | None = None

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/webhookEndpoints/{self.endpoint_id}/deliveries/{self.id}"


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    number: int
    start_time: datetime
    # 0 when no response came.
    http_status: int
    latency: timedelta
    response_body: str = ""
    error: str = ""


@dataclass(frozen=True)
class Response:
    """What the receiver answered (or that it did not: ``status`` 0 and an ``error``)."""

    status: int
    latency: timedelta
    body: str = ""
    error: str = ""
    retry_after: timedelta | None = None


class EndpointVerdict(StrEnum):
    """What an attempt says about the endpoint."""

    HEALTHY = "HEALTHY"
    FAILING = "FAILING"
    GONE = "GONE"


@dataclass(frozen=True)
class Outcome:
    """The delivery after one attempt."""

    state: DeliveryState
    next_attempt_time: datetime | None
    endpoint: EndpointVerdict


def succeeded(status: int) -> bool:
    """2xx only: a redirect is a failure (redirects are never followed)."""
    return 200 <= status < 300


def outcome(
    delivery: Delivery, number: int, response: Response, schedule: RetrySchedule, now: datetime
) -> Outcome:
    """Where attempt ``number`` leaves the delivery."""
    if succeeded(response.status):
        return Outcome(DeliveryState.SUCCEEDED, None, EndpointVerdict.HEALTHY)
    if response.status == 410:
        return Outcome(DeliveryState.FAILED, None, EndpointVerdict.GONE)
    if not delivery.retries:
        return Outcome(DeliveryState.FAILED, None, EndpointVerdict.FAILING)
    retry_after = response.retry_after if response.status in RETRY_AFTER_STATUSES else None
    delay = schedule.next_delay(number, retry_after)
    if delay is None:
        return Outcome(DeliveryState.FAILED, None, EndpointVerdict.FAILING)
    return Outcome(DeliveryState.PENDING, now + delay, EndpointVerdict.FAILING)


def truncate_body(raw: bytes) -> str:
    """The first 4 KiB of a response body as text (undecodable bytes replaced)."""
    return raw[:MAX_RESPONSE_BODY_BYTES].decode("utf-8", errors="replace")
