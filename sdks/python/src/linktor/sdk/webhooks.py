"""Receiving Linktor webhooks: verify the Standard Webhooks signature, get a typed event.

>>> from linktor.sdk.webhooks import WebhookVerifier
>>> verifier = WebhookVerifier("whsec_...")           # the endpoint's secret
>>> event = verifier.verify(request_body, request_headers)
>>> if event.type == "message.created": print(event.event.message.content.text.body)

The body is ``{"type", "timestamp", "data"}`` where ``data`` is a linktor.v1.Event in proto3
JSON; the ``webhook-id`` header is the event's id (``evt_<tenant>_<sequence>``), the same for
every retry and replay: deduplicate on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import standardwebhooks
from google.protobuf import json_format

from linktor.sdk.errors import WebhookVerificationError
from linktor.v1 import event_pb2


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook.

    Attributes:
        id: the ``webhook-id`` header (stable per event: deduplicate on it).
        type: the event type (``message.created`` ...).
        timestamp: when the event happened.
        event: the linktor.v1.Event itself (``event.message``, ``event.sequence`` ...).
        payload: the whole JSON body.
    """

    id: str
    type: str
    timestamp: datetime
    event: event_pb2.Event
    payload: dict[str, Any]


class WebhookVerifier:
    """Verifies webhooks of one endpoint with its ``whsec_...`` secret.

    Signatures older or newer than 5 minutes are refused (replays). During a secret rotation
    Linktor signs with both secrets, so the new or the old one verifies.
    """

    def __init__(self, secret: str) -> None:
        try:
            self._webhook = standardwebhooks.Webhook(secret)
        except Exception as exc:  # the library raises bare Exceptions for bad secrets
            raise ValueError(f"not a webhook secret: {exc}") from None

    def verify(self, body: bytes | str, headers: Mapping[str, str]) -> WebhookEvent:
        """The event of a request, or WebhookVerificationError if anything does not check."""
        try:
            payload = self._webhook.verify(body, dict(headers))
        except standardwebhooks.WebhookVerificationError as exc:
            raise WebhookVerificationError(str(exc)) from None
        except ValueError as exc:  # malformed JSON or signature header
            raise WebhookVerificationError(f"malformed webhook: {exc}") from None
        return parse_payload(
            payload, {k.lower(): v for k, v in headers.items()}.get("webhook-id", "")
        )


def parse_payload(payload: Any, webhook_id: str = "") -> WebhookEvent:
    """A WebhookEvent from an already verified JSON body (unknown fields are ignored, so a
    newer server does not break an older receiver)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise WebhookVerificationError("the webhook body has no event data")
    event = event_pb2.Event()
    try:
        json_format.ParseDict(payload["data"], event, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise WebhookVerificationError(f"the webhook's event is malformed: {exc}") from None
    when = event.create_time.ToDatetime(tzinfo=UTC) if event.HasField("create_time") else None
    return WebhookEvent(
        id=webhook_id,
        type=str(payload.get("type") or event.type),
        timestamp=when or datetime.now(UTC),
        event=event,
        payload=payload,
    )


def verify_webhook(secret: str, body: bytes | str, headers: Mapping[str, str]) -> WebhookEvent:
    """One-shot :meth:`WebhookVerifier.verify`."""
    return WebhookVerifier(secret).verify(body, headers)
