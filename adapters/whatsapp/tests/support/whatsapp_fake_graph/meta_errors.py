"""Meta's error catalogue as the fake answers it: HTTP status, title, details, type.

Written from Meta's Cloud API error-code reference. The fake renders every error in the
Graph API shape: {"error": {"message": "(#<code>) <title>", "type", "code",
"error_subcode"?, "error_data": {"messaging_product": "whatsapp", "details"},
"fbtrace_id"}}.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MetaError:
    code: int
    http_status: int
    title: str
    details: str
    error_type: str = "OAuthException"
    subcode: int = 0


CATALOGUE: dict[int, MetaError] = {
    e.code: e
    for e in (
        MetaError(
            4,
            400,
            "Application request limit reached",
            "The app has reached its API call rate limit.",
        ),
        MetaError(
            80007,
            400,
            "Rate limit issues",
            "The WhatsApp Business Account has reached its rate limit.",
        ),
        MetaError(130429, 400, "Rate limit hit", "Cloud API message throughput has been reached."),
        MetaError(
            131056,
            400,
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
        ),
        MetaError(
            131047,
            400,
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        MetaError(131026, 400, "Message Undeliverable", "Unable to deliver message."),
        MetaError(
            190, 401, "Invalid OAuth access token - Cannot parse access token", "", subcode=0
        ),
        MetaError(100, 400, "Invalid parameter", "", error_type="OAuthException"),
        MetaError(131008, 400, "Required parameter is missing", ""),
        MetaError(131009, 400, "Parameter value is not valid", ""),
        MetaError(
            131051, 400, "Unsupported message type", "Message type is not currently supported."
        ),
        MetaError(
            131053, 400, "Media upload error", "Unable to upload the media used in the message."
        ),
        MetaError(
            132000, 400, "Number of parameters does not match the expected number of params", ""
        ),
        MetaError(132001, 404, "Template name does not exist in the translation", ""),
        MetaError(
            131000, 500, "Something went wrong", "Message failed to send due to an unknown error."
        ),
        MetaError(131016, 500, "Service unavailable", "A service is temporarily unavailable."),
        MetaError(133004, 503, "Server temporarily unavailable", ""),
    )
}


def error_body(
    code: int, *, details: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """The Graph API error body for ``code`` (details override the catalogue's)."""
    known = CATALOGUE.get(code, MetaError(code, 400, "Unknown error", ""))
    error: dict[str, Any] = {
        "message": message or f"(#{code}) {known.title}",
        "type": known.error_type,
        "code": code,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": known.details if details is None else details,
        },
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if known.subcode:
        error["error_subcode"] = known.subcode
    return {"error": error}


def http_status_for(code: int) -> int:
    known = CATALOGUE.get(code)
    return known.http_status if known else 400


class GraphError(Exception):
    """Raised inside the fake's handlers; rendered as a Graph error response."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        http_status: int | None = None,
        message: str | None = None,
        subcode: int = 0,
    ) -> None:
        self.code = code
        self.details = details
        self.http_status = http_status or http_status_for(code)
        self.message = message
        self.subcode = subcode
        super().__init__(f"{code}: {details or message or ''}")

    def body(self) -> dict[str, Any]:
        body = error_body(self.code, details=self.details, message=self.message)
        if self.subcode:
            body["error"]["error_subcode"] = self.subcode
        return body


def invalid_parameter(details: str) -> GraphError:
    """Meta's generic (#100) answer for a malformed message body."""
    return GraphError(100, details, message=f"(#100) {details}")
