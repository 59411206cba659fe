"""One entry of a webhook's ``messages`` array -> a canonical InboundMessage.

Every type Meta documents is mapped: text, image, video, audio (voice notes included),
document, sticker, location, contacts, interactive replies (button_reply, list_reply),
template quick-reply buttons (``button``), reaction, order and system notices. Anything
else, and Meta's own ``unsupported`` type, becomes UnsupportedContent so nothing a
customer sends is silently dropped. Ad referrals, reply context and forwarding flags go
into the flat metadata map.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import timestamp_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapters.whatsapp.content_checks import JsonObject
from linktor.v1 import content_pb2

_MEDIA_TYPES = {
    "image": content_pb2.MEDIA_TYPE_IMAGE,
    "video": content_pb2.MEDIA_TYPE_VIDEO,
    "audio": content_pb2.MEDIA_TYPE_AUDIO,
    "document": content_pb2.MEDIA_TYPE_DOCUMENT,
    "sticker": content_pb2.MEDIA_TYPE_STICKER,
}


def _obj(value: Any) -> JsonObject:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def whatsapp_address(wa_id: str) -> str:
    """A WhatsApp id (digits) as the E.164 address Linktor uses ("+16505551234")."""
    return f"+{wa_id}" if wa_id.isdigit() else wa_id


def timestamp(seconds: Any) -> timestamp_pb2.Timestamp:
    """Meta's epoch-seconds strings as a Timestamp (the Unix epoch when missing)."""
    result = timestamp_pb2.Timestamp()
    text = _str(seconds)
    if text.isdigit():
        result.FromSeconds(int(text))
    return result


def flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    """Nested JSON as flat ``a.b.c`` keys (metadata is a string map)."""
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(f"{prefix}.{key}" if prefix else str(key), item, into)
    elif isinstance(value, list):
        into[prefix] = json.dumps(value, separators=(",", ":"), sort_keys=True)
    elif value is not None:
        into[prefix] = _str(value)


def inbound_message(
    message: JsonObject, display_names: dict[str, str]
) -> adapter_pb2.InboundMessage:
    """The canonical message for one webhook ``messages`` entry."""
    sender = _str(message.get("from"))
    result = adapter_pb2.InboundMessage(
        provider_message_id=_str(message.get("id")),
        sender=whatsapp_address(sender),
        sender_display_name=display_names.get(sender, ""),
        time=timestamp(message.get("timestamp")),
    )
    result.content.CopyFrom(_content(message))
    context = _obj(message.get("context"))
    if context.get("id"):
        result.reply_to_provider_message_id = _str(context.get("id"))
    metadata: dict[str, str] = {}
    flatten("context", {k: v for k, v in context.items() if k != "id"}, metadata)
    flatten("referral", message.get("referral"), metadata)
    if message.get("type") == "system":
        flatten("system", message.get("system"), metadata)
    metadata["whatsapp.type"] = _str(message.get("type"))
    result.metadata.update({k: v for k, v in metadata.items() if v})
    return result


def _content(message: JsonObject) -> content_pb2.MessageContent:
    wa_type = _str(message.get("type"))
    body = _obj(message.get(wa_type))
    if wa_type == "text":
        return content_pb2.MessageContent(text=content_pb2.TextContent(body=_str(body.get("body"))))
    if wa_type in _MEDIA_TYPES:
        return content_pb2.MessageContent(media=_media(wa_type, body))
    if wa_type == "location":
        return content_pb2.MessageContent(location=_location(body))
    if wa_type == "contacts":
        cards = [_contact_card(_obj(c)) for c in message.get("contacts") or []]
        return content_pb2.MessageContent(contacts=content_pb2.ContactsContent(contacts=cards))
    if wa_type == "interactive":
        return _interactive_reply(body)
    if wa_type == "button":
        reply = content_pb2.InteractiveReplyContent(
            type=content_pb2.INTERACTIVE_REPLY_TYPE_TEMPLATE_BUTTON,
            id=_str(body.get("payload")),
            title=_str(body.get("text")),
        )
        return content_pb2.MessageContent(interactive_reply=reply)
    if wa_type == "reaction":
        reaction = content_pb2.ReactionContent(
            provider_message_id=_str(body.get("message_id")), emoji=_str(body.get("emoji"))
        )
        return content_pb2.MessageContent(reaction=reaction)
    if wa_type == "order":
        return content_pb2.MessageContent(order=_order(body))
    if wa_type == "system":
        system = content_pb2.SystemContent(
            type=_str(body.get("type")),
            body=_str(body.get("body")),
            new_address=whatsapp_address(_str(body.get("wa_id") or body.get("new_wa_id"))),
        )
        return content_pb2.MessageContent(system=system)
    return content_pb2.MessageContent(unsupported=_unsupported(wa_type, message))


def _media(wa_type: str, body: JsonObject) -> content_pb2.MediaContent:
    media_type = _MEDIA_TYPES[wa_type]
    if wa_type == "audio" and body.get("voice") is True:
        media_type = content_pb2.MEDIA_TYPE_VOICE
    return content_pb2.MediaContent(
        type=media_type,
        provider_media_id=_str(body.get("id")),
        mime_type=_str(body.get("mime_type")),
        sha256=_str(body.get("sha256")),
        caption=_str(body.get("caption")),
        filename=_str(body.get("filename")),
    )


def _location(body: JsonObject) -> content_pb2.LocationContent:
    def number(key: str) -> float:
        try:
            return float(body.get(key) or 0.0)
        except (TypeError, ValueError):
            return 0.0

    return content_pb2.LocationContent(
        latitude=number("latitude"),
        longitude=number("longitude"),
        name=_str(body.get("name")),
        address=_str(body.get("address")),
        url=_str(body.get("url")),
    )


def _contact_card(card: JsonObject) -> content_pb2.ContactCard:
    name = _obj(card.get("name"))
    org = _obj(card.get("org"))
    return content_pb2.ContactCard(
        formatted_name=_str(name.get("formatted_name")),
        first_name=_str(name.get("first_name")),
        last_name=_str(name.get("last_name")),
        phones=[
            content_pb2.ContactCardPhone(
                number=_str(p.get("phone")), type=_str(p.get("type")), wa_id=_str(p.get("wa_id"))
            )
            for p in map(_obj, card.get("phones") or [])
        ],
        emails=[
            content_pb2.ContactCardEmail(address=_str(e.get("email")), type=_str(e.get("type")))
            for e in map(_obj, card.get("emails") or [])
        ],
        organization=_str(org.get("company")),
        title=_str(org.get("title")),
        urls=[_str(_obj(u).get("url")) for u in card.get("urls") or []],
        birthday=_str(card.get("birthday")),
    )


def _interactive_reply(body: JsonObject) -> content_pb2.MessageContent:
    reply_type = _str(body.get("type"))
    if reply_type == "button_reply":
        reply = _obj(body.get("button_reply"))
        kind = content_pb2.INTERACTIVE_REPLY_TYPE_BUTTON
    elif reply_type == "list_reply":
        reply = _obj(body.get("list_reply"))
        kind = content_pb2.INTERACTIVE_REPLY_TYPE_LIST
    else:
        # Flow answers (nfm_reply) and newer kinds: kept whole so nothing is lost.
        unsupported = content_pb2.UnsupportedContent(
            provider_type=f"interactive.{reply_type}",
            description=json.dumps(body, sort_keys=True)[:4096],
        )
        return content_pb2.MessageContent(unsupported=unsupported)
    return content_pb2.MessageContent(
        interactive_reply=content_pb2.InteractiveReplyContent(
            type=kind,
            id=_str(reply.get("id")),
            title=_str(reply.get("title")),
            description=_str(reply.get("description")),
        )
    )


def _order(body: JsonObject) -> content_pb2.OrderContent:
    items = []
    for item in map(_obj, body.get("product_items") or []):
        try:
            quantity = int(item.get("quantity") or 0)
        except (TypeError, ValueError):
            quantity = 0
        items.append(
            content_pb2.OrderItem(
                product_retailer_id=_str(item.get("product_retailer_id")),
                quantity=quantity,
                item_price=_str(item.get("item_price")),
                currency=_str(item.get("currency")),
            )
        )
    return content_pb2.OrderContent(
        catalog_id=_str(body.get("catalog_id")), text=_str(body.get("text")), items=items
    )


def _unsupported(wa_type: str, message: JsonObject) -> content_pb2.UnsupportedContent:
    errors = [_obj(e) for e in message.get("errors") or []]
    details = "; ".join(
        _str(_obj(e.get("error_data")).get("details")) or _str(e.get("title")) for e in errors
    )
    inner_type = _str(_obj(message.get(wa_type)).get("type"))
    return content_pb2.UnsupportedContent(
        provider_type=f"{wa_type}.{inner_type}" if inner_type else wa_type or "unknown",
        description=details or f"WhatsApp message of type {wa_type or 'unknown'}",
    )
