"""A whole ``messages`` webhook payload -> canonical InboundEvents, in Meta's order.

Meta batches: one POST can carry several entries, each with several changes, each with
several messages and statuses. Only changes of the ``messages`` field for this channel's
phone number become events; a payload for another number (one Meta app can serve many)
is skipped so a channel never sees another channel's traffic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from linktor.adapter.v1 import adapter_pb2
from linktor.adapters.whatsapp.content_checks import JsonObject
from linktor.adapters.whatsapp.errors import message_error_from_webhook
from linktor.adapters.whatsapp.inbound_messages import (
    flatten,
    inbound_message,
    timestamp,
    whatsapp_address,
)
from linktor.v1 import message_pb2

_log = logging.getLogger(__name__)

_STATUSES = {
    "sent": message_pb2.MESSAGE_STATUS_SENT,
    "delivered": message_pb2.MESSAGE_STATUS_DELIVERED,
    "read": message_pb2.MESSAGE_STATUS_READ,
    # A voice note the user played has certainly been read.
    "played": message_pb2.MESSAGE_STATUS_READ,
    "failed": message_pb2.MESSAGE_STATUS_FAILED,
}


class PayloadError(ValueError):
    """The body is not a WhatsApp Business Account webhook payload."""


@dataclass
class ParsedPayload:
    """The events of one delivery and what was left out (for logs and metrics)."""

    events: list[adapter_pb2.InboundEvent] = field(default_factory=list)
    skipped_other_numbers: int = 0
    skipped_fields: list[str] = field(default_factory=list)


def parse_payload(payload: object, phone_number_id: str) -> ParsedPayload:
    """The canonical events of a webhook payload for one business phone number."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise PayloadError("not a whatsapp_business_account webhook payload")
    result = ParsedPayload()
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes")):
            field_name = str(change.get("field", ""))
            value = change.get("value")
            if field_name != "messages" or not isinstance(value, dict):
                result.skipped_fields.append(field_name)
                continue
            metadata = value.get("metadata")
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if str(number) != phone_number_id:
                result.skipped_other_numbers += 1
                continue
            result.events.extend(_change_events(value))
    if result.skipped_other_numbers:
        _log.warning(
            "skipped %d webhook change(s) for other phone numbers", result.skipped_other_numbers
        )
    return result


def _list(value: object) -> list[JsonObject]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _change_events(value: JsonObject) -> list[adapter_pb2.InboundEvent]:
    for error in _list(value.get("errors")):
        # Errors not tied to a message (Meta reports some asynchronously this way).
        _log.warning("WhatsApp reported error %s: %s", error.get("code"), error.get("title"))
    display_names = {
        str(contact.get("wa_id", "")): str((contact.get("profile") or {}).get("name", ""))
        for contact in _list(value.get("contacts"))
    }
    events = [
        adapter_pb2.InboundEvent(message=inbound_message(message, display_names))
        for message in _list(value.get("messages"))
    ]
    for status in _list(value.get("statuses")):
        update = status_update(status)
        if update is not None:
            events.append(adapter_pb2.InboundEvent(status=update))
    return events


def status_update(status: JsonObject) -> adapter_pb2.StatusUpdate | None:
    """The canonical status change of one ``statuses`` entry (None for unknown statuses)."""
    name = str(status.get("status", ""))
    canonical = _STATUSES.get(name)
    if canonical is None:
        _log.info("ignored WhatsApp status %r", name)
        return None
    update = adapter_pb2.StatusUpdate(
        provider_message_id=str(status.get("id", "")),
        status=canonical,
        time=timestamp(status.get("timestamp")),
        recipient=whatsapp_address(str(status.get("recipient_id", ""))),
    )
    errors = _list(status.get("errors"))
    if errors:
        update.error.CopyFrom(message_error_from_webhook(errors[0]))
    elif canonical == message_pb2.MESSAGE_STATUS_FAILED:
        # A FAILED message always carries a reason, even when Meta gave none.
        update.error.CopyFrom(message_error_from_webhook({"title": "failed without details"}))
    metadata: dict[str, str] = {"whatsapp.status": name}
    for key in ("conversation", "pricing", "biz_opaque_callback_data"):
        flatten(key, status.get(key), metadata)
    if len(errors) > 1:
        flatten("errors", errors, metadata)
    update.metadata.update({k: v for k, v in metadata.items() if v})
    return update
