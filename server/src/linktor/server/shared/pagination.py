"""Opaque page tokens (AIP-158).

A token carries the sort key of the last item returned and a fingerprint of the request's
filters, so a token reused with different filters is rejected instead of returning a wrong
page. Tokens are URL-safe base64 JSON: opaque to clients, debuggable for us.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from linktor.server.shared.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def page_size(requested: int, default: int = DEFAULT_PAGE_SIZE) -> int:
    """The effective page size: the default for 0, capped at MAX_PAGE_SIZE, never negative."""
    if requested < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    if requested == 0:
        return default
    return min(requested, MAX_PAGE_SIZE)


def fingerprint(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PageToken:
    """Where the next page starts: after ``last`` (the sort key of the previous page's end)."""

    last: list[Any]
    filters: str

    def encode(self) -> str:
        raw = json.dumps({"l": self.last, "f": self.filters}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, filters: dict[str, Any]) -> PageToken | None:
        """The token's position, None for an empty token; InvalidArgument when it is bad."""
        if not token:
            return None
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            decoded = cls(last=list(data["l"]), filters=str(data["f"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidArgument.for_field("page_token", "is not a valid page token") from exc
        if decoded.filters != fingerprint(filters):
            raise InvalidArgument.for_field(
                "page_token", "was issued for a request with different filters"
            )
        return decoded
