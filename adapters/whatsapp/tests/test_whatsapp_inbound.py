"""Every inbound message and status fixture -> canonical InboundEvents."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format
from wa_support import fixture_payload

from linktor.adapter.v1 import adapter_pb2
from linktor.adapters.whatsapp.inbound_payload import PayloadError, parse_payload

pytestmark = pytest.mark.unit

PHONE_NUMBER_ID = "106540352242922"
SENDER = "+16505551234"


def events(name: str) -> list[adapter_pb2.InboundEvent]:
    return parse_payload(fixture_payload(name), PHONE_NUMBER_ID).events


def only_message(name: str) -> adapter_pb2.InboundMessage:
    (event,) = events(name)
    assert event.WhichOneof("kind") == "message"
    message = event.message
    assert message.sender == SENDER
    assert message.time.seconds == 1749416383
    assert message.provider_message_id.startswith("wamid.")
    return message


def content_json(message: adapter_pb2.InboundMessage) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(message.content)
    return result


def test_text_with_profile_name() -> None:
    message = only_message("message_text.json")
    assert message.sender_display_name == "Sheena Nelson"
    assert content_json(message) == {"text": {"body": "Does it come in another color?"}}
    assert message.metadata["whatsapp.type"] == "text"


def test_reply_context_and_forwarding() -> None:
    message = only_message("message_text_reply.json")
    assert (
        message.reply_to_provider_message_id
        == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QURFRDBCQjFBNzg3NUJEMTIA"
    )
    assert message.metadata["context.forwarded"] == "true"
    assert message.metadata["context.from"] == "15550783881"


def test_ad_referral_goes_into_metadata() -> None:
    message = only_message("message_referral.json")
    assert message.content.text.body == "Is this still available?"
    assert message.metadata["referral.source_type"] == "ad"
    assert message.metadata["referral.source_id"] == "120226305854810726"
    assert message.metadata["referral.headline"] == "Summer sale"
    assert message.metadata["referral.ctwa_clid"].startswith("Aff-")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "message_image.json",
            {
                "type": "MEDIA_TYPE_IMAGE",
                "providerMediaId": "1003383421387256",
                "mimeType": "image/jpeg",
                "caption": "Is this the right one?",
            },
        ),
        (
            "message_video.json",
            {
                "type": "MEDIA_TYPE_VIDEO",
                "providerMediaId": "1166846181421424",
                "mimeType": "video/mp4",
                "caption": "Unboxing",
            },
        ),
        (
            "message_audio.json",
            {
                "type": "MEDIA_TYPE_AUDIO",
                "providerMediaId": "1003383421387257",
                "mimeType": "audio/mpeg",
            },
        ),
        (
            "message_voice.json",
            {
                "type": "MEDIA_TYPE_VOICE",
                "providerMediaId": "1003383421387258",
                "mimeType": "audio/ogg; codecs=opus",
            },
        ),
        (
            "message_document.json",
            {
                "type": "MEDIA_TYPE_DOCUMENT",
                "providerMediaId": "1003383421387259",
                "mimeType": "application/pdf",
                "caption": "My invoice",
                "filename": "invoice-1234.pdf",
            },
        ),
        (
            "message_sticker.json",
            {
                "type": "MEDIA_TYPE_STICKER",
                "providerMediaId": "1003383421387260",
                "mimeType": "image/webp",
            },
        ),
    ],
)
def test_media(name: str, expected: dict[str, str]) -> None:
    media = content_json(only_message(name))["media"]
    assert len(media.pop("sha256")) == 64
    assert media == expected


def test_location() -> None:
    assert content_json(only_message("message_location.json")) == {
        "location": {
            "latitude": 37.483307,
            "longitude": -122.148981,
            "name": "Meta Headquarters",
            "address": "1 Hacker Way, Menlo Park, CA 94025",
            "url": "https://meta.com",
        }
    }


def test_contacts() -> None:
    (card,) = only_message("message_contacts.json").content.contacts.contacts
    assert json_format.MessageToDict(card) == {
        "formattedName": "Barbara J. Johnson",
        "firstName": "Barbara",
        "lastName": "Johnson",
        "phones": [{"number": "+1 (650) 555-1234", "type": "WORK", "waId": "16505551234"}],
        "emails": [{"address": "bjohnson@example.com", "type": "WORK"}],
        "organization": "Example, Inc.",
        "title": "Manager",
        "urls": ["https://www.example.com"],
        "birthday": "1999-01-23",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "message_interactive_button_reply.json",
            {"type": "INTERACTIVE_REPLY_TYPE_BUTTON", "id": "confirm-yes", "title": "Yes"},
        ),
        (
            "message_interactive_list_reply.json",
            {
                "type": "INTERACTIVE_REPLY_TYPE_LIST",
                "id": "priority-express",
                "title": "Express shipping",
                "description": "Next day delivery",
            },
        ),
        (
            "message_button.json",
            {
                "type": "INTERACTIVE_REPLY_TYPE_TEMPLATE_BUTTON",
                "id": "unsubscribe-marketing",
                "title": "Stop promotions",
            },
        ),
    ],
)
def test_replies_to_interactive_and_template_buttons(name: str, expected: dict[str, str]) -> None:
    message = only_message(name)
    assert content_json(message) == {"interactiveReply": expected}
    assert message.reply_to_provider_message_id.startswith("wamid.")


def test_reaction_names_the_provider_message() -> None:
    assert content_json(only_message("message_reaction.json")) == {
        "reaction": {
            "emoji": "👍",
            "providerMessageId": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA",
        }
    }


def test_order() -> None:
    assert content_json(only_message("message_order.json")) == {
        "order": {
            "catalogId": "194836987003835",
            "text": "Please deliver after 5pm",
            "items": [
                {
                    "productRetailerId": "di9ozbzfi4",
                    "quantity": 2,
                    "itemPrice": "30",
                    "currency": "USD",
                },
                {
                    "productRetailerId": "nqryix03ez",
                    "quantity": 1,
                    "itemPrice": "25.5",
                    "currency": "USD",
                },
            ],
        }
    }


def test_system_number_change() -> None:
    message = only_message("message_system.json")
    assert message.sender_display_name == ""  # system webhooks have no contacts array
    assert content_json(message) == {
        "system": {
            "type": "user_changed_number",
            "body": "User Sheena Nelson changed from 16505551234 to 16505559999",
            "newAddress": "+16505559999",
        }
    }
    assert message.metadata["system.wa_id"] == "16505559999"


def test_unsupported_keeps_what_meta_said() -> None:
    assert content_json(only_message("message_unsupported.json")) == {
        "unsupported": {
            "providerType": "unsupported.edit",
            "description": "Message type is currently not supported.",
        }
    }


def test_unknown_types_are_unsupported_not_dropped() -> None:
    payload = fixture_payload("message_text.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = "hologram"
    message["hologram"] = {"id": "1"}
    (event,) = parse_payload(payload, PHONE_NUMBER_ID).events
    assert event.message.content.unsupported.provider_type == "hologram"


@pytest.mark.parametrize(
    ("name", "status", "seconds"),
    [
        ("status_sent.json", "MESSAGE_STATUS_SENT", 1749416400),
        ("status_delivered.json", "MESSAGE_STATUS_DELIVERED", 1749416402),
        ("status_read.json", "MESSAGE_STATUS_READ", 1749416460),
        ("status_played.json", "MESSAGE_STATUS_READ", 1749416500),
    ],
)
def test_statuses(name: str, status: str, seconds: int) -> None:
    (event,) = events(name)
    update = event.status
    assert json_format.MessageToDict(update)["status"] == status
    assert update.time.seconds == seconds
    assert update.recipient == SENDER
    assert update.provider_message_id.startswith("wamid.")
    assert not update.HasField("error")


def test_sent_status_carries_conversation_and_pricing() -> None:
    (event,) = events("status_sent.json")
    assert dict(event.status.metadata) == {
        "whatsapp.status": "sent",
        "conversation.id": "6ceb9d929c7a9b7c3a1b2e2f5d6a7b8c",
        "conversation.expiration_timestamp": "1749502800",
        "conversation.origin.type": "utility",
        "pricing.billable": "true",
        "pricing.pricing_model": "PMP",
        "pricing.type": "regular",
        "pricing.category": "utility",
    }


@pytest.mark.parametrize(
    ("name", "code", "provider_code"),
    [
        ("status_failed.json", "REPLY_WINDOW_CLOSED", "131047"),
        ("status_failed_undeliverable.json", "UNDELIVERABLE", "131026"),
    ],
)
def test_failed_statuses_carry_the_normalized_error(
    name: str, code: str, provider_code: str
) -> None:
    (event,) = events(name)
    update = event.status
    assert json_format.MessageToDict(update)["status"] == "MESSAGE_STATUS_FAILED"
    assert (update.error.code, update.error.provider_code, update.error.retryable) == (
        code,
        provider_code,
        False,
    )
    assert update.error.provider_message


def test_batched_entries_in_order_and_other_numbers_skipped() -> None:
    parsed = parse_payload(fixture_payload("batched.json"), PHONE_NUMBER_ID)
    summary = [
        (e.WhichOneof("kind"), e.message.provider_message_id or e.status.provider_message_id)
        for e in parsed.events
    ]
    assert summary == [
        ("message", "wamid.BATCH-1"),
        ("message", "wamid.BATCH-2"),
        ("status", "wamid.OUT-1"),
        ("status", "wamid.OUT-1"),
        ("message", "wamid.BATCH-3"),
    ]
    assert [e.message.sender_display_name for e in parsed.events if e.HasField("message")] == [
        "Sheena Nelson",
        "Pablo Morales",
        "Sheena Nelson",
    ]
    assert parsed.skipped_other_numbers == 1
    assert parsed.skipped_fields == ["message_template_status_update"]


def test_a_payload_for_another_number_yields_nothing() -> None:
    assert parse_payload(fixture_payload("message_text.json"), "999").events == []


@pytest.mark.parametrize("payload", [[], {"object": "page"}, "text", None])
def test_not_a_whatsapp_payload(payload: object) -> None:
    with pytest.raises(PayloadError):
        parse_payload(payload, PHONE_NUMBER_ID)


def test_a_failed_status_without_errors_still_has_a_reason() -> None:
    payload = fixture_payload("status_failed.json")
    del payload["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"]
    (event,) = parse_payload(payload, PHONE_NUMBER_ID).events
    assert (event.status.error.code, event.status.error.retryable) == ("PROVIDER_ERROR", False)
    assert event.status.error.message
