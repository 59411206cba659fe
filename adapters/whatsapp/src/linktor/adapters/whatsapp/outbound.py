"""Canonical MessageContent -> the JSON body of POST /{phone-number-id}/messages.

Every body carries ``messaging_product: whatsapp``, ``recipient_type: individual``, the
recipient in ``to``, the ``type`` and one object named after the type. A reply quotes
the earlier message through ``context.message_id``. Content WhatsApp would refuse
raises ContentViolation naming the canonical field, before anything reaches Meta.
"""

from __future__ import annotations

import re

from linktor.adapters.whatsapp import limits
from linktor.adapters.whatsapp.content_checks import (
    ContentViolation,
    JsonObject,
    optional_text,
    require_count,
    require_text,
)
from linktor.adapters.whatsapp.outbound_interactive import interactive_message
from linktor.adapters.whatsapp.outbound_media import media_object
from linktor.adapters.whatsapp.outbound_template import template_message
from linktor.v1 import content_pb2

_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_WA_ID = re.compile(r"^[0-9]{6,20}$")
_BIRTHDAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class RecipientViolation(ContentViolation):
    """The recipient address is not a phone number WhatsApp can address."""


def whatsapp_recipient(address: str) -> str:
    """An E.164 address ("+1 650-555-1234") as WhatsApp's ``to`` (digits only)."""
    digits = _PHONE_SEPARATORS.sub("", address.strip()).removeprefix("+")
    if not _WA_ID.match(digits):
        raise RecipientViolation(
            "recipient", "must be a phone number in international format, e.g. +16505551234"
        )
    return digits


def message_body(
    recipient: str, content: content_pb2.MessageContent, reply_to_provider_message_id: str = ""
) -> JsonObject:
    """The full request body for sending ``content`` to ``recipient``."""
    wa_type, obj = content_object(content)
    body: JsonObject = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": whatsapp_recipient(recipient),
        "type": wa_type,
        wa_type: obj,
    }
    if reply_to_provider_message_id and wa_type != "reaction":
        body["context"] = {"message_id": reply_to_provider_message_id}
    return body


def content_object(
    content: content_pb2.MessageContent,
) -> tuple[str, JsonObject | list[JsonObject]]:
    """The WhatsApp message type and its object for canonical content."""
    kind = content.WhichOneof("kind")
    if kind == "text":
        return "text", _text(content.text)
    if kind == "media":
        return media_object("content.media", content.media)
    if kind == "location":
        return "location", _location(content.location)
    if kind == "contacts":
        # The one type whose object is a list: "contacts": [{...}, ...].
        return "contacts", _contacts(content.contacts)
    if kind == "template":
        return "template", template_message(content.template)
    if kind == "interactive":
        return "interactive", interactive_message(content.interactive)
    if kind == "reaction":
        return "reaction", _reaction(content.reaction)
    if kind is None:
        raise ContentViolation("content", "is empty")
    raise ContentViolation(f"content.{kind}", "cannot be sent on WhatsApp")


def _text(text: content_pb2.TextContent) -> JsonObject:
    body = require_text("content.text.body", text.body, limits.TEXT_BODY_MAX)
    return {"preview_url": text.preview_url, "body": body}


def _location(location: content_pb2.LocationContent) -> JsonObject:
    if not -90.0 <= location.latitude <= 90.0:
        raise ContentViolation("content.location.latitude", "must be between -90 and 90")
    if not -180.0 <= location.longitude <= 180.0:
        raise ContentViolation("content.location.longitude", "must be between -180 and 180")
    result: JsonObject = {"latitude": location.latitude, "longitude": location.longitude}
    if location.name:
        result["name"] = optional_text("content.location.name", location.name, 1000)
    if location.address:
        result["address"] = optional_text("content.location.address", location.address, 1000)
    return result


def _contacts(contacts: content_pb2.ContactsContent) -> list[JsonObject]:
    field = "content.contacts.contacts"
    require_count(field, len(contacts.contacts), 1, limits.CONTACT_CARDS_MAX, "contact cards")
    return [_contact_card(f"{field}[{i}]", card) for i, card in enumerate(contacts.contacts)]


def _contact_card(field: str, card: content_pb2.ContactCard) -> JsonObject:
    formatted_name = require_text(f"{field}.formatted_name", card.formatted_name, 1000)
    name: JsonObject = {"formatted_name": formatted_name}
    if card.first_name:
        name["first_name"] = card.first_name
    if card.last_name:
        name["last_name"] = card.last_name
    if not (card.first_name or card.last_name):
        # Meta wants at least one name part besides formatted_name.
        name["first_name"] = formatted_name
    result: JsonObject = {"name": name}
    if card.phones:
        result["phones"] = [
            {k: v for k, v in (("phone", p.number), ("type", p.type), ("wa_id", p.wa_id)) if v}
            for p in card.phones
        ]
    if card.emails:
        result["emails"] = [
            {k: v for k, v in (("email", e.address), ("type", e.type)) if v} for e in card.emails
        ]
    if card.organization or card.title:
        result["org"] = {
            k: v for k, v in (("company", card.organization), ("title", card.title)) if v
        }
    if card.urls:
        result["urls"] = [{"url": url} for url in card.urls]
    if card.birthday:
        if not _BIRTHDAY.match(card.birthday):
            raise ContentViolation(f"{field}.birthday", "must be YYYY-MM-DD")
        result["birthday"] = card.birthday
    return result


def _reaction(reaction: content_pb2.ReactionContent) -> JsonObject:
    if not reaction.provider_message_id:
        raise ContentViolation(
            "content.reaction.provider_message_id",
            "is required: WhatsApp reacts to its own message id (wamid)",
        )
    # An empty emoji removes an earlier reaction, as Meta documents.
    return {"message_id": reaction.provider_message_id, "emoji": reaction.emoji}
