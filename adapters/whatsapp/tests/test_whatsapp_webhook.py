"""Webhook verification handshake and X-Hub-Signature-256 checks (no network)."""

from __future__ import annotations

import pytest
from wa_support import VERIFY_TOKEN, channel_for, fixture_bytes, signed_request
from whatsapp_fake_graph import FakeGraphApi

from linktor.adapterkit.testing import webhook_request
from linktor.adapters.whatsapp.config import parse_config
from linktor.adapters.whatsapp.webhook import handle_webhook, signature_for

pytestmark = pytest.mark.unit

CONFIG = parse_config(channel_for(FakeGraphApi()))


def _get(query: str) -> object:
    return handle_webhook(CONFIG, webhook_request(b"", method="GET", query=query))


def test_verification_handshake_echoes_the_challenge() -> None:
    answer = handle_webhook(
        CONFIG,
        webhook_request(
            b"",
            method="GET",
            query=f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444",
        ),
    )
    assert answer.response.status == 200
    assert answer.response.body == b"1158201444"
    assert any(
        h.name == "content-type" and h.value.startswith("text/plain")
        for h in answer.response.headers
    )
    assert answer.authenticated
    assert not answer.events


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=1",
        "",
    ],
)
def test_verification_with_a_wrong_token_or_mode_is_forbidden(query: str) -> None:
    answer = handle_webhook(CONFIG, webhook_request(b"", method="GET", query=query))
    assert answer.response.status == 403
    assert not answer.authenticated
    assert b"1" not in answer.response.body


def test_a_correctly_signed_delivery_is_authenticated_and_parsed() -> None:
    body = fixture_bytes("message_text.json")
    answer = handle_webhook(CONFIG, signed_request(body))
    assert answer.response.status == 200
    assert answer.authenticated
    assert len(answer.events) == 1


def test_uppercase_hex_signatures_are_accepted() -> None:
    body = fixture_bytes("message_text.json")
    upper = "sha256=" + signature_for("test-app-secret", body).removeprefix("sha256=").upper()
    assert handle_webhook(CONFIG, signed_request(body, signature=upper)).authenticated


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=" + "0" * 64,
        "sha1=abcdef",
        "garbage",
        signature_for("another-app-secret", fixture_bytes("message_text.json")),
    ],
)
def test_missing_or_wrong_signatures_are_refused_without_events(signature: str) -> None:
    answer = handle_webhook(
        CONFIG, signed_request(fixture_bytes("message_text.json"), signature=signature)
    )
    assert answer.response.status == 401
    assert not answer.authenticated
    assert not answer.events


def test_a_body_changed_after_signing_is_refused() -> None:
    body = fixture_bytes("message_text.json")
    signature = signature_for("test-app-secret", body)
    tampered = body.replace(b"another color", b"a refund now!")
    answer = handle_webhook(CONFIG, signed_request(tampered, signature=signature))
    assert answer.response.status == 401
    assert not answer.events


def test_an_authentic_body_that_is_not_a_messages_payload_is_acknowledged() -> None:
    for body in (b"not json", b'{"object": "page", "entry": []}'):
        answer = handle_webhook(CONFIG, signed_request(body))
        assert answer.response.status == 200
        assert answer.authenticated
        assert not answer.events


def test_other_methods_are_refused() -> None:
    answer = handle_webhook(CONFIG, webhook_request(b"", method="PUT"))
    assert answer.response.status == 405
    assert not answer.authenticated
