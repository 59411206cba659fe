"""Validation of what users set on an endpoint. Each function appends FieldViolations (paths
relative to the endpoint) and returns the normalized value, so one request reports every
problem at once."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from linktor.server.shared.errors import FieldViolation

MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 1024
MAX_EVENT_TYPES = 64
MAX_EVENT_TYPE_LENGTH = 128
MAX_HEADERS = 20
MAX_HEADER_VALUE_LENGTH = 2048
MAX_RATE = 10_000
MAX_RETRIES = 16
MIN_RETRY_DELAY = timedelta(seconds=1)
MAX_RETRY_DELAY = timedelta(hours=24)

# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
# Visible ASCII, spaces and tabs (obs-text excluded: it is not portable).
_HEADER_VALUE = re.compile(r"^[\x20-\x7e\t]*$")
_EVENT_SEGMENT = re.compile(r"^(?:\*|[a-z0-9_]+)$")
# Headers Linktor sets itself (the signature, the body's type and length, the connection).
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "host",
        "user-agent",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-authorization",
    }
)


def url(value: str, violations: list[FieldViolation]) -> str:
    """An absolute http(s) URL with a host, no credentials and no fragment (where it may
    point is checked separately, against the network policy)."""
    text = value.strip()
    problem = _url_problem(text)
    if problem:
        violations.append(FieldViolation("url", problem))
    return text


def _url_problem(text: str) -> str | None:
    if not text:
        return "is required"
    if len(text) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if any(c.isspace() or ord(c) < 0x20 for c in text):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// or http://"
    if not parts.hostname:
        return "must include a host"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials; send them in a custom header instead"
    if parts.fragment:
        return "must not contain a fragment (#...)"
    return None


def event_types(values: Iterable[str], violations: list[FieldViolation]) -> tuple[str, ...]:
    """Dot-separated lowercase segments, ``*`` standing for one whole segment; duplicates
    dropped, order kept. Empty means every event."""
    found: list[str] = []
    for i, raw in enumerate(values):
        pattern = raw.strip()
        if len(pattern) > MAX_EVENT_TYPE_LENGTH or not all(
            _EVENT_SEGMENT.match(segment) for segment in pattern.split(".")
        ):
            violations.append(
                FieldViolation(
                    f"event_types[{i}]",
                    "must be dot-separated lowercase segments such as message.created, with *"
                    " for a whole segment (message.*)",
                )
            )
        elif pattern not in found:
            found.append(pattern)
    if len(found) > MAX_EVENT_TYPES:
        violations.append(FieldViolation("event_types", f"at most {MAX_EVENT_TYPES} patterns"))
    return tuple(found)


@lru_cache(maxsize=4096)
def _matcher(patterns: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = (
        r"\.".join("[^.]+" if s == "*" else re.escape(s) for s in p.split(".")) for p in patterns
    )
    return re.compile("^(?:" + "|".join(alternatives) + ")$")


def matches_event_type(patterns: tuple[str, ...], event_type: str) -> bool:
    """Whether ``event_type`` matches one of ``patterns`` (every type when there are none)."""
    return not patterns or bool(_matcher(patterns).match(event_type))


def description(value: str, violations: list[FieldViolation]) -> str:
    text = value.strip()
    if len(text) > MAX_DESCRIPTION_LENGTH:
        violations.append(
            FieldViolation("description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
        )
    return text


def headers(values: Mapping[str, str], violations: list[FieldViolation]) -> dict[str, str]:
    """Extra request headers; never one Linktor sets (webhook-*, content-type, host ...)."""
    seen: set[str] = set()
    result: dict[str, str] = {}
    for name, value in sorted(values.items()):
        path = f"headers[{name!r}]"
        lower = name.lower()
        if not _HEADER_NAME.match(name):
            violations.append(FieldViolation(path, "is not a valid header name"))
        elif lower.startswith("webhook-") or lower in RESERVED_HEADERS:
            violations.append(FieldViolation(path, "is set by Linktor and cannot be overridden"))
        elif lower in seen:
            violations.append(FieldViolation(path, "is given twice (names ignore case)"))
        elif len(value) > MAX_HEADER_VALUE_LENGTH or not _HEADER_VALUE.match(value):
            violations.append(
                FieldViolation(
                    path,
                    f"must be at most {MAX_HEADER_VALUE_LENGTH} printable ASCII characters"
                    " without line breaks",
                )
            )
        else:
            seen.add(lower)
            result[name] = value
    if len(values) > MAX_HEADERS:
        violations.append(FieldViolation("headers", f"at most {MAX_HEADERS} headers"))
    return result


def rate_limit(per_second: float, burst: int, violations: list[FieldViolation]) -> None:
    if not math.isfinite(per_second) or not 0 <= per_second <= MAX_RATE:
        violations.append(
            FieldViolation("rate_limit.per_second", f"must be between 0 and {MAX_RATE}")
        )
    if not 0 <= burst <= MAX_RATE:
        violations.append(FieldViolation("rate_limit.burst", f"must be between 0 and {MAX_RATE}"))


def retry_schedule(
    delays: Iterable[timedelta], violations: list[FieldViolation]
) -> tuple[timedelta, ...]:
    result = tuple(delays)
    if len(result) > MAX_RETRIES:
        violations.append(FieldViolation("retry_schedule", f"at most {MAX_RETRIES} delays"))
    for i, delay in enumerate(result):
        if not MIN_RETRY_DELAY <= delay <= MAX_RETRY_DELAY:
            violations.append(
                FieldViolation(f"retry_schedule[{i}]", "must be between 1 second and 24 hours")
            )
    return result
