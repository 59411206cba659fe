"""The error table: Meta codes -> normalized MessageError, retryability and waits."""

from __future__ import annotations

from pathlib import Path

import pytest

from linktor.adapters.whatsapp import errors
from linktor.adapters.whatsapp.errors import message_error_from_webhook, send_error_from_graph

pytestmark = pytest.mark.unit


def _seconds(error: object) -> float:
    duration = error.retry_after  # type: ignore[attr-defined]
    return float(duration.seconds + duration.nanos / 1e9)


@pytest.mark.parametrize(
    ("code", "wait"),
    [(130429, 1.0), (131056, 6.0), (80007, 60.0), (4, 60.0), (613, 60.0)],
)
def test_throughput_and_pair_rate_limits_are_retryable_with_a_pause(code: int, wait: float) -> None:
    error = send_error_from_graph(code=code, http_status=400, provider_message=f"(#{code}) limit")
    assert error.error.code == errors.RATE_LIMITED
    assert error.error.retryable
    assert error.error.provider_code == str(code)
    assert _seconds(error) == wait


def test_metas_own_wait_hint_wins_over_the_tables_default() -> None:
    error = send_error_from_graph(
        code=80007, http_status=400, provider_message="limit", retry_after_seconds=300.0
    )
    assert _seconds(error) == 300.0


def test_131047_is_reply_window_closed_with_the_template_hint() -> None:
    error = send_error_from_graph(
        code=131047,
        http_status=400,
        provider_message="(#131047) Re-engagement message",
        details="More than 24 hours have passed since the customer last replied",
    )
    assert error.error.code == "REPLY_WINDOW_CLOSED"
    assert not error.error.retryable
    assert "template" in error.error.message
    assert error.error.provider_message.startswith("(#131047) Re-engagement message (More than")
    assert not error.HasField("retry_after")


@pytest.mark.parametrize(
    ("code", "linktor_code"),
    [
        (131026, errors.UNDELIVERABLE),
        (100, errors.INVALID_REQUEST),
        (190, errors.UNAUTHENTICATED),
        (0, errors.UNAUTHENTICATED),
        (10, errors.PERMISSION_DENIED),
        (250, errors.PERMISSION_DENIED),
        (131008, errors.INVALID_REQUEST),
        (131009, errors.INVALID_REQUEST),
        (132000, errors.TEMPLATE_PARAMS_MISMATCH),
        (132001, errors.TEMPLATE_NOT_FOUND),
        (132015, errors.TEMPLATE_PAUSED),
        (131050, errors.RECIPIENT_OPTED_OUT),
        (131048, errors.ACCOUNT_RESTRICTED),
        (368, errors.ACCOUNT_RESTRICTED),
        (131053, errors.MEDIA_ERROR),
    ],
)
def test_permanent_errors_are_not_retryable_and_say_why(code: int, linktor_code: str) -> None:
    error = send_error_from_graph(code=code, http_status=400, provider_message="x")
    assert error.error.code == linktor_code
    assert not error.error.retryable
    assert error.error.message
    assert not error.HasField("retry_after")


def test_190_says_to_replace_the_token() -> None:
    error = send_error_from_graph(code=190, http_status=401, provider_message="Invalid OAuth")
    assert "secrets.access_token" in error.error.message


@pytest.mark.parametrize("code", [1, 2, 131000, 131016, 133004])
def test_meta_side_trouble_is_retryable(code: int) -> None:
    error = send_error_from_graph(code=code, http_status=500, provider_message="oops")
    assert error.error.retryable
    assert _seconds(error) > 0


def test_unknown_codes_keep_metas_code_and_text() -> None:
    error = send_error_from_graph(
        code=999001, http_status=400, provider_message="(#999001) Brand new", details="d"
    )
    assert error.error.code == errors.PROVIDER_ERROR
    assert not error.error.retryable
    assert error.error.provider_code == "999001"
    assert error.error.provider_message == "(#999001) Brand new (d)"


@pytest.mark.parametrize(
    ("http_status", "transient", "code", "retryable"),
    [
        (503, False, errors.PROVIDER_UNAVAILABLE, True),
        (500, False, errors.PROVIDER_UNAVAILABLE, True),
        (429, False, errors.RATE_LIMITED, True),
        (400, True, errors.PROVIDER_UNAVAILABLE, True),
        (401, False, errors.UNAUTHENTICATED, False),
    ],
)
def test_unknown_codes_follow_the_http_status(
    http_status: int, transient: bool, code: str, retryable: bool
) -> None:
    error = send_error_from_graph(
        code=None, http_status=http_status, provider_message="x", transient=transient
    )
    assert (error.error.code, error.error.retryable) == (code, retryable)
    assert error.error.provider_code == str(http_status)


def test_transport_failures_are_retryable() -> None:
    timeout = errors.transport_error("timeout", timeout=True)
    refused = errors.transport_error("refused", timeout=False)
    assert (timeout.error.code, timeout.error.retryable) == (errors.TIMEOUT, True)
    assert (refused.error.code, refused.error.retryable) == (errors.PROVIDER_UNAVAILABLE, True)


def test_webhook_errors_are_normalized_with_details() -> None:
    error = message_error_from_webhook(
        {
            "code": 131047,
            "title": "Re-engagement message",
            "error_data": {"details": "24 hours passed"},
        }
    )
    assert (error.code, error.retryable, error.provider_code) == (
        "REPLY_WINDOW_CLOSED",
        False,
        "131047",
    )
    assert error.provider_message == "Re-engagement message (24 hours passed)"


def test_every_table_row_has_a_reason_and_waits_only_when_retryable() -> None:
    for code, rule in errors.ERROR_TABLE.items():
        assert rule.reason.endswith("."), code
        assert rule.retry_after_seconds == 0 or rule.retryable, code


def test_the_documented_table_matches_the_code() -> None:
    """docs/channels/whatsapp.md shows the same rows as ERROR_TABLE."""
    docs = Path(__file__).parents[3] / "docs" / "channels" / "whatsapp.md"
    rows = {
        int(cells[1]): (cells[2].strip("`"), cells[3] == "yes")
        for line in docs.read_text().splitlines()
        if (cells := [c.strip() for c in line.split("|")]) and len(cells) > 4 and cells[1].isdigit()
    }
    assert rows == {code: (rule.code, rule.retryable) for code, rule in errors.ERROR_TABLE.items()}
