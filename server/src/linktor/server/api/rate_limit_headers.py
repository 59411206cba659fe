"""HTTP headers of a rate-limited REST call, derived from its gRPC status.

The Authenticator refuses a call over a token bucket with RESOURCE_EXHAUSTED, a
google.rpc.RetryInfo (when to retry) and an ErrorInfo whose metadata describes the bucket
(``burst``, ``rate_per_second``, ``remaining``; see identity/app/authenticate.py). gRPC
clients read those details; REST clients get them as the headers they know: ``Retry-After``
(RFC 9110) and the RateLimit fields of the IETF httpapi draft (draft-ietf-httpapi-
ratelimit-headers-06: ``RateLimit-Limit``, ``-Remaining``, ``-Reset`` and ``-Policy``).
This is the one place that translates them, so gRPC and REST cannot disagree.
"""

from __future__ import annotations

import math

from google.rpc import code_pb2, error_details_pb2, status_pb2

from linktor.gateway.status import retry_after_headers
from linktor.server.api.errors import ERROR_DOMAIN

Headers = list[tuple[bytes, bytes]]


def _error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo | None:
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.domain == ERROR_DOMAIN:
                return info
    return None


def _whole(text: str | None) -> int | None:
    """A non-negative integer from metadata text, or None when absent or not a number."""
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return max(0, math.floor(value)) if math.isfinite(value) else None


def error_headers(status: status_pb2.Status) -> Headers:
    """Headers for an error response: Retry-After from RetryInfo (any status), and the
    RateLimit fields when a RESOURCE_EXHAUSTED status describes the limit it hit."""
    headers = retry_after_headers(status)
    if status.code != code_pb2.RESOURCE_EXHAUSTED:
        return headers
    info = _error_info(status)
    if info is None:
        return headers
    limit = _whole(info.metadata.get("burst"))
    remaining = _whole(info.metadata.get("remaining"))
    rate = info.metadata.get("rate_per_second")
    if limit is not None:
        headers.append((b"ratelimit-limit", str(limit).encode()))
    if remaining is not None:
        headers.append((b"ratelimit-remaining", str(remaining).encode()))
    # Seconds until a unit of quota is back: when this client may call again.
    headers += [(b"ratelimit-reset", value) for name, value in headers if name == b"retry-after"]
    if limit and rate is not None:
        try:
            per_second = float(rate)
        except ValueError:
            per_second = 0.0
        if per_second > 0 and math.isfinite(per_second):
            # A token bucket of ``limit`` tokens refilled at ``rate``/s: at most ``limit``
            # calls in the time an empty bucket takes to fill (the draft's time window).
            window = max(1, math.ceil(limit / per_second))
            headers.append((b"ratelimit-policy", f"{limit};w={window}".encode()))
    return headers
