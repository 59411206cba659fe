"""Domain rules of webhooks, without I/O: the schedule, outcomes, patterns, headers, secrets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from linktor.server.shared.errors import FieldViolation
from linktor.server.webhooks.domain import rules
from linktor.server.webhooks.domain.delivery import (
    Delivery,
    DeliveryState,
    EndpointVerdict,
    Response,
    outcome,
)
from linktor.server.webhooks.domain.schedule import DEFAULT_DELAYS, RetrySchedule
from linktor.server.webhooks.domain.signature import new_secret, signature_header

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_published_schedule() -> None:
    assert (
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ) == DEFAULT_DELAYS
    schedule = RetrySchedule()
    assert schedule.max_attempts == 8
    rng = random.Random(7)
    for attempt, base in enumerate(DEFAULT_DELAYS, start=1):
        for _ in range(50):
            delay = schedule.next_delay(attempt, rng=rng)
            assert delay is not None and base * 0.9 <= delay <= base * 1.1
    assert schedule.next_delay(8) is None


def test_retry_after_only_lengthens_the_wait_and_is_capped() -> None:
    schedule = RetrySchedule()
    assert schedule.next_delay(2, timedelta(hours=1)) == timedelta(hours=1)
    short = schedule.next_delay(2, timedelta(seconds=1))
    assert short is not None and short >= timedelta(minutes=4)
    assert schedule.next_delay(1, timedelta(days=9)) == timedelta(hours=24)


def delivery(retries: bool = True) -> Delivery:
    return Delivery(
        "d", "t", "e", "evt_t_1", "x.y", 1, b"{}", DeliveryState.PENDING, NOW, retries=retries
    )


@pytest.mark.parametrize(
    ("status", "state", "verdict"),
    [
        (200, DeliveryState.SUCCEEDED, EndpointVerdict.HEALTHY),
        (204, DeliveryState.SUCCEEDED, EndpointVerdict.HEALTHY),
        (301, DeliveryState.PENDING, EndpointVerdict.FAILING),
        (410, DeliveryState.FAILED, EndpointVerdict.GONE),
        (500, DeliveryState.PENDING, EndpointVerdict.FAILING),
        (0, DeliveryState.PENDING, EndpointVerdict.FAILING),
    ],
)
def test_outcomes(status: int, state: DeliveryState, verdict: EndpointVerdict) -> None:
    result = outcome(delivery(), 1, Response(status, timedelta(0)), RetrySchedule(), NOW)
    assert (result.state, result.endpoint) == (state, verdict)


def test_retry_after_counts_on_429_and_503_only() -> None:
    wait = timedelta(hours=3)
    for status, honoured in ((429, True), (503, True), (500, False)):
        result = outcome(
            delivery(), 1, Response(status, timedelta(0), retry_after=wait), RetrySchedule(), NOW
        )
        assert result.next_attempt_time is not None
        assert (result.next_attempt_time - NOW >= wait) is honoured


def test_a_test_send_is_not_retried() -> None:
    result = outcome(delivery(retries=False), 1, Response(500, timedelta(0)), RetrySchedule(), NOW)
    assert result.state is DeliveryState.FAILED


def test_event_type_patterns() -> None:
    violations: list[FieldViolation] = []
    patterns = rules.event_types(["message.*", "contact.created", "message.*"], violations)
    assert patterns == ("message.*", "contact.created") and not violations
    assert rules.matches_event_type(patterns, "message.updated")
    assert not rules.matches_event_type(patterns, "message")
    assert not rules.matches_event_type(patterns, "message.created.extra")
    assert rules.matches_event_type((), "anything.at_all")
    rules.event_types(["Message.*", "a..b", "mess*age.x", ""], violations)
    assert len(violations) == 4


@pytest.mark.parametrize(
    "name", ["webhook-id", "Webhook-Signature", "content-type", "Host", "user-agent", "bad name"]
)
def test_reserved_and_invalid_headers_are_refused(name: str) -> None:
    violations: list[FieldViolation] = []
    assert rules.headers({name: "v"}, violations) == {}
    assert violations[0].field == f"headers[{name!r}]"


def test_signatures_verify_with_the_official_library_for_each_secret() -> None:
    old, new = new_secret(), new_secret()
    assert old.startswith("whsec_") and old != new
    body = b'{"type":"x.y","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    timestamp = int(datetime.now(UTC).timestamp())
    header = signature_header([new, old], "evt_t_1", timestamp, body)
    assert header.count("v1,") == 2
    headers = {
        "webhook-id": "evt_t_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": header,
    }
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["type"] == "x.y"
