"""Per-channel allowed origins: CORS for the HTTP endpoints, the Origin check of sockets.

A channel with no allowed origins accepts any page (the widget works as soon as it is
pasted; docs/channels/webchat.md recommends setting them). With origins set, a request must
come from one of them: a browser request without an Origin header is refused too. This is
a browser protection (a site cannot borrow another's channel); non-browser clients can
send any Origin and are bounded by sessions and rate limits instead.
"""

from __future__ import annotations

from linktor.server.webchat.app.ports import WebchatChannel

ALLOWED_HEADERS = "authorization, content-type, x-filename"
PREFLIGHT_MAX_AGE = "600"


def origin_allowed(channel: WebchatChannel, origin: str | None) -> bool:
    if not channel.allowed_origins:
        return True
    return origin is not None and origin.lower().rstrip("/") in channel.allowed_origins


def cors_headers(origin: str | None, methods: str) -> dict[str, str]:
    """Headers for an allowed request (no credentials: tokens travel in headers)."""
    headers = {"vary": "Origin"}
    if origin:
        headers.update(
            {
                "access-control-allow-origin": origin,
                "access-control-allow-methods": methods,
                "access-control-allow-headers": ALLOWED_HEADERS,
                "access-control-max-age": PREFLIGHT_MAX_AGE,
            }
        )
    return headers
