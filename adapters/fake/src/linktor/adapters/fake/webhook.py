"""The fake provider's webhook format, parsed into canonical InboundEvents.

Requests (documented in adapters/fake/README.md)::

    POST <webhook_url>
    X-Fake-Signature: sha256=<hex HMAC-SHA256 of the raw body, key secrets.webhook_secret>
    {"events": [
      {"type": "message", "id": "pm_1", "from": "+15550001", "name": "Ann", "text": "hi",
       "time": "2026-01-01T00:00:00Z", "reply_to": "fk_..."},
      {"type": "message", "id": "pm_2", "from": "+15550001",
       "media": {"type": "image", "url": "https://...", "mime_type": "image/png", "caption": ""}},
      {"type": "status", "id": "fk_...", "status": "delivered", "recipient": "+15550001",
       "time": "...", "error": {"code": "...", "message": "..."}},
      {"type": "typing", "from": "+15550001", "typing": true},
      {"type": "read", "from": "+15550001", "id": "fk_...", "time": "..."}
    ]}

    GET <webhook_url>?challenge=XYZ&verify_token=T   -> 200 "XYZ" when T is secrets.verify_token

Unknown event types are skipped (providers add types); a known type missing a required field
is a 400.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import (
    WebhookRejected,
    handled,
    header,
    json_body,
    query,
    rejected,
    response,
    verify_hmac_sha256,
)
from linktor.v1 import content_pb2, message_pb2

SIGNATURE_HEADER = "x-fake-signature"
SIGNATURE_PREFIX = "sha256="

_STATUSES = {
    "sent": message_pb2.MESSAGE_STATUS_SENT,
    "delivered": message_pb2.MESSAGE_STATUS_DELIVERED,
    "read": message_pb2.MESSAGE_STATUS_READ,
    "failed": message_pb2.MESSAGE_STATUS_FAILED,
}
_MEDIA_TYPES = {
    name.removeprefix("MEDIA_TYPE_").lower(): value
    for name, value in content_pb2.MediaType.items()
    if value != 0
}


def handle(
    channel: adapter_pb2.ChannelConfig, request: adapter_pb2.HttpRequest
) -> adapter_pb2.HandleWebhookResponse:
    if request.method.upper() == "GET":
        return _verification(channel, request)
    if request.method.upper() != "POST":
        return rejected(405, "use POST (events) or GET (verification)")
    secret = channel.secrets.get("webhook_secret", "")
    signature = header(request, SIGNATURE_HEADER)
    if not verify_hmac_sha256(secret, request.body, signature, prefix=SIGNATURE_PREFIX):
        return rejected(401, "missing or invalid X-Fake-Signature")
    payload = json_body(request)
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise WebhookRejected(400, 'expected {"events": [...]}', authenticated=True)
    events = [e for e in (_event(item) for item in payload["events"]) if e is not None]
    return handled(events, body="ok")


def _verification(
    channel: adapter_pb2.ChannelConfig, request: adapter_pb2.HttpRequest
) -> adapter_pb2.HandleWebhookResponse:
    params = query(request)
    expected = channel.secrets.get("verify_token", "")
    challenge = params.get("challenge", "")
    if not expected or not challenge or params.get("verify_token") != expected:
        return rejected(403, "verification failed")
    return adapter_pb2.HandleWebhookResponse(response=response(200, challenge), authenticated=True)


def _required(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise WebhookRejected(400, f"event {item.get('type')!r} needs {key!r}", authenticated=True)
    return value


def _time(item: dict[str, Any]) -> timestamp_pb2.Timestamp | None:
    if not item.get("time"):
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(str(item["time"]))  # ValueError -> 400 through BaseAdapter
    return stamp


def _event(item: Any) -> adapter_pb2.InboundEvent | None:
    if not isinstance(item, dict):
        raise WebhookRejected(400, "each event must be an object", authenticated=True)
    kind = item.get("type")
    if kind == "message":
        return adapter_pb2.InboundEvent(message=_message(item))
    if kind == "status":
        return adapter_pb2.InboundEvent(status=_status(item))
    if kind == "typing":
        typing = adapter_pb2.ContactTyping(
            sender=_required(item, "from"), typing=bool(item.get("typing", True))
        )
        return adapter_pb2.InboundEvent(typing=typing)
    if kind == "read":
        read = adapter_pb2.ContactRead(
            sender=_required(item, "from"),
            provider_message_id=_required(item, "id"),
            time=_time(item),
        )
        return adapter_pb2.InboundEvent(read=read)
    return None


def _message(item: dict[str, Any]) -> adapter_pb2.InboundMessage:
    message = adapter_pb2.InboundMessage(
        provider_message_id=_required(item, "id"),
        sender=_required(item, "from"),
        sender_display_name=str(item.get("name", "")),
        reply_to_provider_message_id=str(item.get("reply_to", "")),
        time=_time(item),
    )
    media = item.get("media")
    if isinstance(media, dict):
        media_type = _MEDIA_TYPES.get(str(media.get("type", "")))
        if media_type is None:
            raise WebhookRejected(
                400, f"unknown media type {media.get('type')!r}", authenticated=True
            )
        message.content.media.CopyFrom(
            content_pb2.MediaContent(
                type=media_type,
                url=_required(media, "url"),
                mime_type=str(media.get("mime_type", "")),
                caption=str(media.get("caption", "")),
            )
        )
    else:
        message.content.text.body = _required(item, "text")
    return message


def _status(item: dict[str, Any]) -> adapter_pb2.StatusUpdate:
    status = _STATUSES.get(str(item.get("status", "")))
    if status is None:
        raise WebhookRejected(400, f"unknown status {item.get('status')!r}", authenticated=True)
    update = adapter_pb2.StatusUpdate(
        provider_message_id=_required(item, "id"),
        status=status,
        recipient=str(item.get("recipient", "")),
        time=_time(item),
    )
    error = item.get("error")
    if isinstance(error, dict):
        update.error.code = str(error.get("code", "PROVIDER_ERROR"))
        update.error.message = str(error.get("message", ""))
    return update
