"""The channel's webhook URL: Meta's verification handshake and signed event deliveries.

GET  ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...  -> 200 with the challenge
     as text/plain when the verify token matches, 403 otherwise.
POST with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the
     app secret>`` -> 200 and the parsed events; 401 and no events when the signature is
     missing or wrong. Both comparisons are constant-time.
"""

from __future__ import annotations

import hmac
import json
import logging

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import (
    handled,
    header,
    query,
    rejected,
    response,
    sign_hex,
    verify_hmac_sha256,
)
from linktor.adapters.whatsapp.config import WhatsAppConfig
from linktor.adapters.whatsapp.inbound_payload import PayloadError, parse_payload

_log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-hub-signature-256"
_SIGNATURE_PREFIX = "sha256="


def signature_for(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for ``body``."""
    return sign_hex(app_secret, body, prefix=_SIGNATURE_PREFIX)


def signature_is_valid(app_secret: str, body: bytes, header_value: str | None) -> bool:
    """Constant-time check of an X-Hub-Signature-256 header against the raw body."""
    return verify_hmac_sha256(app_secret, body, header_value, prefix=_SIGNATURE_PREFIX)


def verify_subscription(
    config: WhatsAppConfig, request: adapter_pb2.HttpRequest
) -> adapter_pb2.HandleWebhookResponse:
    """Meta's GET handshake when the webhook URL is configured in the app dashboard."""
    params = query(request)
    mode = params.get("hub.mode", "")
    token = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge", "")
    token_matches = bool(config.verify_token) and hmac.compare_digest(
        token.encode(), config.verify_token.encode()
    )
    if mode == "subscribe" and token_matches and challenge:
        return handled(body=challenge)
    _log.warning("refused a webhook verification request (mode=%r)", mode)
    return rejected(403, "Forbidden")


def receive_events(
    config: WhatsAppConfig, request: adapter_pb2.HttpRequest
) -> adapter_pb2.HandleWebhookResponse:
    """A signed POST from Meta: verify, then parse every event in order."""
    if not signature_is_valid(config.app_secret, request.body, header(request, SIGNATURE_HEADER)):
        _log.warning("refused a webhook delivery with a missing or wrong X-Hub-Signature-256")
        return rejected(401, "Invalid signature")
    try:
        parsed = parse_payload(json.loads(request.body), config.phone_number_id)
    except (ValueError, PayloadError) as exc:
        # Signed by Meta but not something we understand: acknowledge, or Meta retries the
        # same body for days.
        _log.warning("ignored an authentic webhook body that is not a messages payload: %s", exc)
        return handled(body="OK")
    return handled(parsed.events, body="OK")


def handle_webhook(
    config: WhatsAppConfig, request: adapter_pb2.HttpRequest
) -> adapter_pb2.HandleWebhookResponse:
    """Dispatches a provider request by method."""
    method = request.method.upper()
    if method == "GET":
        return verify_subscription(config, request)
    if method == "POST":
        return receive_events(config, request)
    return adapter_pb2.HandleWebhookResponse(
        response=response(405, "Method Not Allowed", headers={"allow": "GET, POST"})
    )
