"""Meta's documented checks of a POST /{phone-number-id}/messages body.

The fake refuses what Meta refuses (required fields, value limits, type-specific
objects) with (#100) invalid-parameter errors, so the adapter's mapping is tested
against the wire contract, not against itself.
"""

from __future__ import annotations

import re
from typing import Any

from whatsapp_fake_graph.interactive_validation import validate_interactive
from whatsapp_fake_graph.media_validation import validate_media_object
from whatsapp_fake_graph.meta_errors import GraphError, invalid_parameter
from whatsapp_fake_graph.templates import validate_template_message

MESSAGE_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
)
_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_CAPTIONED = ("image", "video", "document")
_WA_ID = re.compile(r"^\+?[0-9]{6,20}$")


def _obj(body: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise invalid_parameter(f"The parameter {where} is required.")
    return value


def _text(
    body: dict[str, Any], key: str, where: str, max_length: int, required: bool = True
) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise invalid_parameter(f"The parameter {where} is required.")
    if len(value) > max_length:
        raise invalid_parameter(f"Param {where} must be at most {max_length} characters long.")
    return value


def validate_status_body(body: dict[str, Any]) -> None:
    """Mark-as-read (and typing indicator) bodies."""
    if body.get("status") != "read":
        raise invalid_parameter("Param status must be 'read'.")
    _text(body, "message_id", "message_id", 512)
    indicator = body.get("typing_indicator")
    if indicator is not None and (
        not isinstance(indicator, dict) or indicator.get("type") != "text"
    ):
        raise invalid_parameter("Param typing_indicator['type'] must be 'text'.")


def validate_message_body(
    body: dict[str, Any], known_media_ids: set[str], templates: list[dict[str, Any]]
) -> str:
    """Checks a send body; returns the message type."""
    if body.get("messaging_product") != "whatsapp":
        raise invalid_parameter("The parameter messaging_product is required.")
    if body.get("recipient_type", "individual") not in ("individual", "group"):
        raise invalid_parameter("Param recipient_type must be one of {individual, group}.")
    to = body.get("to")
    if not isinstance(to, str) or not _WA_ID.match(to):
        raise invalid_parameter("The parameter to is required.")
    wa_type = body.get("type", "text")
    if wa_type not in MESSAGE_TYPES:
        raise GraphError(131051, f"Message type {wa_type} is not supported.")
    if wa_type == "contacts":
        # The contacts object is the one documented list: "contacts": [{...}].
        _validate_contacts(body.get("contacts"))
        return "contacts"
    obj = _obj(body, wa_type, wa_type)
    callback_data = body.get("biz_opaque_callback_data")
    if callback_data is not None and (
        not isinstance(callback_data, str) or len(callback_data) > 512
    ):
        raise invalid_parameter(
            "Param biz_opaque_callback_data must be at most 512 characters long."
        )
    context = body.get("context")
    if context is not None:
        _text(_obj(body, "context", "context"), "message_id", "context['message_id']", 512)
    if wa_type == "text":
        _text(obj, "body", "text['body']", 4096)
    elif wa_type in _MEDIA_TYPES:
        _validate_media(wa_type, obj, known_media_ids)
    elif wa_type == "location":
        for key in ("latitude", "longitude"):
            if not isinstance(obj.get(key), (int, float)):
                raise invalid_parameter(f"The parameter location['{key}'] is required.")
    elif wa_type == "interactive":
        validate_interactive(obj, known_media_ids)
    elif wa_type == "template":
        validate_template_message(obj, templates, known_media_ids)
    elif wa_type == "reaction":
        _text(obj, "message_id", "reaction['message_id']", 512)
        if not isinstance(obj.get("emoji"), str):
            raise invalid_parameter("The parameter reaction['emoji'] is required.")
    return str(wa_type)


def _validate_media(wa_type: str, obj: dict[str, Any], known_media_ids: set[str]) -> None:
    validate_media_object(wa_type, obj, known_media_ids)
    if "caption" in obj:
        if wa_type not in _CAPTIONED:
            raise invalid_parameter(f"Param {wa_type}['caption'] is not supported.")
        _text(obj, "caption", f"{wa_type}['caption']", 1024)
    if "filename" in obj and wa_type != "document":
        raise invalid_parameter(f"Param {wa_type}['filename'] is not supported.")
    if "voice" in obj and (wa_type != "audio" or not isinstance(obj["voice"], bool)):
        raise invalid_parameter("Param voice is only supported on audio.")


def _validate_contacts(contacts: Any) -> None:
    if not isinstance(contacts, list) or not contacts:
        raise invalid_parameter("The parameter contacts is required.")
    for i, card in enumerate(contacts):
        if not isinstance(card, dict):
            raise invalid_parameter(f"Param contacts[{i}] must be an object.")
        name = _obj(card, "name", f"contacts[{i}]['name']")
        _text(name, "formatted_name", f"contacts[{i}]['name']['formatted_name']", 1000)
        if not any(
            name.get(k) for k in ("first_name", "last_name", "middle_name", "suffix", "prefix")
        ):
            raise invalid_parameter(
                f"Param contacts[{i}]['name'] requires at least one of first_name, last_name, "
                "middle_name, suffix, prefix."
            )
