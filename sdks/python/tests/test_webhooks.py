"""Webhook verification: payloads signed with the standardwebhooks library (as the server
signs them), tampered, stale, and a real event shape parsed into linktor.v1.Event."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks
from google.protobuf import json_format

from linktor.sdk import errors
from linktor.sdk.webhooks import WebhookVerifier, verify_webhook
from linktor.v1 import content_pb2, event_pb2, message_pb2

pytestmark = pytest.mark.unit

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


def signed(body: str, when: datetime, webhook_id: str = "evt_acme_7") -> dict[str, str]:
    signature = standardwebhooks.Webhook(SECRET).sign(webhook_id, when, body)
    return {
        "Webhook-Id": webhook_id,
        "Webhook-Timestamp": str(int(when.timestamp())),
        "Webhook-Signature": signature,
    }


def message_event_body() -> str:
    event = event_pb2.Event(
        name="tenants/acme/events/7",
        sequence=7,
        type="message.created",
        message=message_pb2.Message(
            name="tenants/acme/conversations/c1/messages/m1",
            content=content_pb2.MessageContent(text=content_pb2.TextContent(body="hi")),
        ),
    )
    event.create_time.FromDatetime(datetime(2026, 11, 25, tzinfo=UTC))
    data = json_format.MessageToDict(event)
    data["someFutureField"] = True  # a newer server's field must not break the receiver
    return json.dumps(
        {"type": event.type, "timestamp": "2026-11-25T00:00:00Z", "data": data},
        separators=(",", ":"),
    )


def test_a_signed_webhook_verifies_into_a_typed_event() -> None:
    body = message_event_body()
    got = WebhookVerifier(SECRET).verify(body.encode(), signed(body, datetime.now(UTC)))
    assert (got.id, got.type, got.event.sequence) == ("evt_acme_7", "message.created", 7)
    assert got.event.message.content.text.body == "hi"
    assert got.timestamp == datetime(2026, 11, 25, tzinfo=UTC)


def test_tampered_stale_and_unsigned_webhooks_are_refused() -> None:
    body = message_event_body()
    now = datetime.now(UTC)
    with pytest.raises(errors.WebhookVerificationError):
        verify_webhook(SECRET, body.replace('"hi"', '"bye"'), signed(body, now))
    with pytest.raises(errors.WebhookVerificationError, match="too old"):
        verify_webhook(SECRET, body, signed(body, now - timedelta(minutes=10)))
    with pytest.raises(errors.WebhookVerificationError):
        verify_webhook(SECRET, body, {})
    other = "whsec_" + base64.b64encode(b"o" * 32).decode()
    with pytest.raises(errors.WebhookVerificationError):
        verify_webhook(other, body, signed(body, now))


def test_a_verified_body_without_event_data_is_refused() -> None:
    body = json.dumps({"type": "x"})
    with pytest.raises(errors.WebhookVerificationError, match="no event data"):
        verify_webhook(SECRET, body, signed(body, datetime.now(UTC)))
