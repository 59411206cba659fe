"""The fake provider's webhook format (adapters/fake/README.md) into canonical events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import sign_hex
from linktor.adapterkit.testing import channel_config, webhook_request
from linktor.adapters.fake.adapter import FakeAdapter
from linktor.v1 import common_pb2, content_pb2, message_pb2

pytestmark = pytest.mark.unit

CTX: Any = None
SECRET = "whsec-test"
CHANNEL = channel_config(
    common_pb2.CHANNEL_TYPE_WEBCHAT, {}, {"webhook_secret": SECRET, "verify_token": "vt"}
)


async def post(
    payload: Any, *, secret: str = SECRET, raw: bytes | None = None
) -> adapter_pb2.HandleWebhookResponse:
    body = raw if raw is not None else json.dumps(payload).encode()
    request = webhook_request(body, {"X-Fake-Signature": sign_hex(secret, body, prefix="sha256=")})
    return await FakeAdapter(env={}).HandleWebhook(
        adapter_pb2.HandleWebhookRequest(channel=CHANNEL, request=request), CTX
    )


async def test_parses_every_event_type_in_order() -> None:
    reply = await post(
        {
            "events": [
                {
                    "type": "message",
                    "id": "pm_1",
                    "from": "+1555",
                    "name": "Ann",
                    "text": "hi",
                    "time": "2026-01-01T00:00:00Z",
                },
                {
                    "type": "message",
                    "id": "pm_2",
                    "from": "+1555",
                    "media": {"type": "image", "url": "https://x/a.png", "mime_type": "image/png"},
                },
                {
                    "type": "status",
                    "id": "fk_1",
                    "status": "failed",
                    "recipient": "+1555",
                    "error": {"code": "BLOCKED", "message": "no"},
                },
                {"type": "typing", "from": "+1555", "typing": False},
                {"type": "read", "from": "+1555", "id": "fk_1"},
                {"type": "future-thing", "x": 1},
            ]
        }
    )
    assert (reply.response.status, reply.authenticated) == (200, True)
    kinds = [e.WhichOneof("kind") for e in reply.events]
    assert kinds == ["message", "message", "status", "typing", "read"]
    first = reply.events[0].message
    assert (
        first.provider_message_id,
        first.sender,
        first.sender_display_name,
        first.content.text.body,
    ) == ("pm_1", "+1555", "Ann", "hi")
    assert first.time.seconds == 1767225600
    assert reply.events[1].message.content.media.type == content_pb2.MEDIA_TYPE_IMAGE
    status = reply.events[2].status
    assert (status.status, status.error.code) == (message_pb2.MESSAGE_STATUS_FAILED, "BLOCKED")
    assert reply.events[3].typing.typing is False


@pytest.mark.parametrize("secret", ["wrong", ""])
async def test_bad_signatures_are_401_and_unauthenticated(secret: str) -> None:
    reply = await post(
        {"events": [{"type": "message", "id": "1", "from": "a", "text": "x"}]},
        secret=secret or "x" * 0,
    )
    assert (reply.response.status, reply.authenticated, len(reply.events)) == (401, False, 0)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"events": 3}',
        b'{"events": [{"type": "message", "from": "a"}]}',
        b'{"events": [{"type": "status", "id": "1", "status": "lost"}]}',
        b'{"events": [{"type": "message", "id": "1", "from": "a", "text": "x", "time": "yesterday"}]}',
    ],
)
async def test_authentic_but_malformed_payloads_are_400(raw: bytes) -> None:
    reply = await post(None, raw=raw)
    assert reply.response.status == 400
    assert not reply.events


async def test_verification_handshake() -> None:
    adapter = FakeAdapter(env={})
    good = webhook_request(b"", method="GET", query="challenge=abc123&verify_token=vt")
    reply = await adapter.HandleWebhook(
        adapter_pb2.HandleWebhookRequest(channel=CHANNEL, request=good), CTX
    )
    assert (reply.response.status, reply.response.body, reply.authenticated) == (
        200,
        b"abc123",
        True,
    )
    bad = webhook_request(b"", method="GET", query="challenge=abc123&verify_token=nope")
    refused = await adapter.HandleWebhook(
        adapter_pb2.HandleWebhookRequest(channel=CHANNEL, request=bad), CTX
    )
    assert (refused.response.status, refused.authenticated) == (403, False)
