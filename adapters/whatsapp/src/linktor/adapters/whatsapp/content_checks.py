"""Small checks shared by the outbound mappers; each failure names the canonical field."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# A JSON object as sent to or received from the Graph API.
JsonObject = dict[str, Any]


class ContentViolation(Exception):
    """Canonical content that WhatsApp would refuse; ``field`` is the proto path."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def require_text(field: str, value: str, max_length: int) -> str:
    """A required text of 1..max_length characters (Meta counts characters, not bytes)."""
    if not value.strip():
        raise ContentViolation(field, "is required")
    return optional_text(field, value, max_length)


def optional_text(field: str, value: str, max_length: int) -> str:
    """An optional text of at most max_length characters."""
    if len(value) > max_length:
        raise ContentViolation(
            field, f"is {len(value)} characters long; WhatsApp allows at most {max_length}"
        )
    return value


def require_count(field: str, count: int, minimum: int, maximum: int, what: str) -> None:
    """A repeated field with minimum..maximum elements."""
    if count < minimum:
        raise ContentViolation(field, f"needs at least {minimum} {what}")
    if count > maximum:
        raise ContentViolation(field, f"has {count} {what}; WhatsApp allows at most {maximum}")


def require_unique(field: str, values: list[str], what: str) -> None:
    """Ids that must be unique within one message."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ContentViolation(field, f"{what} {value!r} is used twice; ids must be unique")
        seen.add(value)


def require_web_url(field: str, url: str) -> str:
    """An absolute http(s) URL that Meta can fetch or open."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentViolation(field, "must be an absolute http(s) URL")
    return url
