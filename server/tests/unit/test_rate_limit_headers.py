"""REST headers of rate-limited calls, from the status the gRPC error mapping builds."""

from __future__ import annotations

import pytest

from linktor.server.api.errors import to_status
from linktor.server.api.rate_limit_headers import error_headers
from linktor.server.shared.errors import NotFound, ResourceExhausted

pytestmark = pytest.mark.unit


def headers_of(error: Exception) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in error_headers(to_status(error))}  # type: ignore[arg-type]


def test_a_token_bucket_refusal_gets_retry_after_and_the_ratelimit_fields() -> None:
    refused = ResourceExhausted(
        "slow down",
        retry_after=0.25,
        metadata={"limit": "api_key", "rate_per_second": "50", "burst": "100", "remaining": "0"},
    )
    assert headers_of(refused) == {
        "retry-after": "1",
        "ratelimit-limit": "100",
        "ratelimit-remaining": "0",
        "ratelimit-reset": "1",
        "ratelimit-policy": "100;w=2",
    }


def test_a_limit_without_bucket_details_gets_what_is_known() -> None:
    login = ResourceExhausted(
        "too many login attempts", retry_after=42.0, metadata={"limit": "login", "remaining": "0"}
    )
    assert headers_of(login) == {
        "retry-after": "42",
        "ratelimit-remaining": "0",
        "ratelimit-reset": "42",
    }


def test_quota_without_retry_and_other_errors_get_no_headers() -> None:
    assert headers_of(ResourceExhausted("monthly quota used up")) == {}
    assert headers_of(NotFound("tenants/x not found")) == {}


def test_unusable_metadata_is_left_out() -> None:
    odd = ResourceExhausted(
        "slow down", retry_after=1.0, metadata={"burst": "many", "rate_per_second": "0"}
    )
    assert headers_of(odd) == {"retry-after": "1", "ratelimit-reset": "1"}
