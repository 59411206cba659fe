"""Subject rules shared by both buses: matching, pattern containment and overlap, names."""

from __future__ import annotations

import pytest

from linktor.server.infra.bus.port import STREAMS, BusError
from linktor.server.infra.bus.subjects import (
    check_pattern,
    check_subject,
    durable_consumer_name,
    is_subset,
    matches,
    overlap,
    stream_of_pattern,
    stream_of_subject,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.b.c", "a.b.c", True),
        ("a.b.c", "a.b", False),
        ("a.b", "a.b.c", False),
        ("a.*.c", "a.x.c", True),
        ("a.*.c", "a.x.y.c", False),
        ("a.*", "a", False),
        ("a.>", "a.b", True),
        ("a.>", "a.b.c.d", True),
        ("a.>", "a", False),
        (">", "a", True),
        ("*.*", "a.b", True),
        ("a.*.>", "a.b", False),
        ("a.*.>", "a.b.c", True),
    ],
)
def test_matches(pattern: str, subject: str, expected: bool) -> None:
    assert matches(pattern, subject) is expected


@pytest.mark.parametrize(
    ("inner", "outer", "expected"),
    [
        ("a.b", "a.>", True),
        ("a.>", "a.>", True),
        ("a.*.c", "a.>", True),
        ("a.>", "a.*", False),
        ("a.*", "a.b", False),
        ("a.b", "a.*", True),
        ("a", "a.>", False),
        (">", "a.>", False),
        ("a.b.>", "a.*.>", True),
    ],
)
def test_is_subset(inner: str, outer: str, expected: bool) -> None:
    assert is_subset(inner, outer) is expected


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("a.*.sms", "a.x.>", True),
        ("a.*.sms", "a.*.email", False),
        ("a.b", "a.b.c", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("*.b", "a.*", True),
    ],
)
def test_overlap(first: str, second: str, expected: bool) -> None:
    assert overlap(first, second) is expected
    assert overlap(second, first) is expected


@pytest.mark.parametrize("subject", ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "a\tb"])
def test_invalid_subjects(subject: str) -> None:
    with pytest.raises(BusError):
        check_subject(subject)


@pytest.mark.parametrize("pattern", ["", "a.>.b", "a..>", "a b.>"])
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(BusError):
        check_pattern(pattern)


def test_the_platform_streams_own_their_subjects() -> None:
    assert stream_of_subject(STREAMS, "linktor.outbound.whatsapp.t1").name == "LINKTOR_OUTBOUND"
    assert stream_of_pattern(STREAMS, "linktor.events.*.message").name == "LINKTOR_EVENTS"
    with pytest.raises(BusError, match="belongs to no stream"):
        stream_of_subject(STREAMS, "linktor.unknown.x")
    with pytest.raises(BusError, match="not inside one stream"):
        stream_of_pattern(STREAMS, "linktor.>")


def test_valid_durable_names_are_kept() -> None:
    assert durable_consumer_name("outbound-delivery_1") == "outbound-delivery_1"


def test_other_durable_names_are_made_valid_and_stay_distinct() -> None:
    dotted = durable_consumer_name("outbound.delivery")
    underscored = durable_consumer_name("outbound_delivery")
    spaced = durable_consumer_name("outbound delivery")
    assert underscored == "outbound_delivery"
    assert len({dotted, underscored, spaced}) == 3
    for name in (dotted, spaced, durable_consumer_name("a/b>*" + "x" * 100)):
        assert len(name) <= 64
        assert all(c.isalnum() or c in "_-" for c in name)
    assert durable_consumer_name("outbound.delivery") == dotted  # stable
    with pytest.raises(BusError):
        durable_consumer_name("")
