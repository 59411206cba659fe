"""Canonical content -> Meta's documented message JSON, and the limits checked before Meta."""

from __future__ import annotations

from typing import Any

import pytest
from wa_support import body_of, content, violation_of

from linktor.adapters.whatsapp.outbound import RecipientViolation, message_body

pytestmark = pytest.mark.unit


def test_text_with_link_preview_and_reply_context() -> None:
    body = body_of(content(text={"body": "See https://example.com", "previewUrl": True}), "wamid.X")
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": True, "body": "See https://example.com"},
        "context": {"message_id": "wamid.X"},
    }


@pytest.mark.parametrize("address", ["", "abc", "+12", "+1234567890123456789012"])
def test_recipients_must_be_international_phone_numbers(address: str) -> None:
    with pytest.raises(RecipientViolation):
        message_body(address, content(text={"body": "hi"}))


@pytest.mark.parametrize(
    ("media", "expected_type", "expected"),
    [
        (
            {
                "type": "MEDIA_TYPE_IMAGE",
                "url": "https://cdn.example.com/a.jpg",
                "caption": "Look",
                "mimeType": "image/jpeg",
            },
            "image",
            {"link": "https://cdn.example.com/a.jpg", "caption": "Look"},
        ),
        (
            {"type": "MEDIA_TYPE_VIDEO", "providerMediaId": "1166846181421424"},
            "video",
            {"id": "1166846181421424"},
        ),
        ({"type": "MEDIA_TYPE_AUDIO", "providerMediaId": "77"}, "audio", {"id": "77"}),
        (
            {
                "type": "MEDIA_TYPE_VOICE",
                "providerMediaId": "78",
                "mimeType": "audio/ogg; codecs=opus",
            },
            "audio",
            {"id": "78", "voice": True},
        ),
        (
            {
                "type": "MEDIA_TYPE_DOCUMENT",
                "url": "https://x.example/i.pdf",
                "filename": "invoice.pdf",
                "caption": "Invoice",
            },
            "document",
            {"link": "https://x.example/i.pdf", "caption": "Invoice", "filename": "invoice.pdf"},
        ),
        (
            {"type": "MEDIA_TYPE_STICKER", "providerMediaId": "79", "mimeType": "image/webp"},
            "sticker",
            {"id": "79"},
        ),
    ],
)
def test_media_by_link_or_id(
    media: dict[str, Any], expected_type: str, expected: dict[str, Any]
) -> None:
    body = body_of(content(media=media))
    assert body["type"] == expected_type
    assert body[expected_type] == expected


@pytest.mark.parametrize(
    ("media", "field", "words"),
    [
        (
            {"type": "MEDIA_TYPE_IMAGE", "url": "https://x/a.gif", "mimeType": "image/gif"},
            "content.media.mime_type",
            "image/jpeg",
        ),
        (
            {"type": "MEDIA_TYPE_IMAGE", "url": "https://x/a.jpg", "sizeBytes": str(5 * 2**20 + 1)},
            "content.media.size_bytes",
            "limit",
        ),
        (
            {"type": "MEDIA_TYPE_VIDEO", "url": "https://x/a.mov", "mimeType": "video/quicktime"},
            "content.media.mime_type",
            "video/mp4",
        ),
        (
            {
                "type": "MEDIA_TYPE_VIDEO",
                "url": "https://x/a.mp4",
                "sizeBytes": str(16 * 2**20 + 1),
            },
            "content.media.size_bytes",
            "limit",
        ),
        (
            {"type": "MEDIA_TYPE_AUDIO", "url": "https://x/a.wav", "mimeType": "audio/wav"},
            "content.media.mime_type",
            "audio/aac",
        ),
        (
            {
                "type": "MEDIA_TYPE_DOCUMENT",
                "url": "https://x/a.pdf",
                "sizeBytes": str(100 * 2**20 + 1),
            },
            "content.media.size_bytes",
            "limit",
        ),
        (
            {"type": "MEDIA_TYPE_STICKER", "url": "https://x/a.png", "mimeType": "image/png"},
            "content.media.mime_type",
            "image/webp",
        ),
        (
            {
                "type": "MEDIA_TYPE_STICKER",
                "url": "https://x/a.webp",
                "sizeBytes": str(500 * 1024 + 1),
            },
            "content.media.size_bytes",
            "limit",
        ),
        (
            {"type": "MEDIA_TYPE_IMAGE", "url": "https://x/a.jpg", "caption": "c" * 1025},
            "content.media.caption",
            "1024",
        ),
        (
            {"type": "MEDIA_TYPE_AUDIO", "url": "https://x/a.mp3", "caption": "no"},
            "content.media.caption",
            "no caption",
        ),
        (
            {"type": "MEDIA_TYPE_STICKER", "url": "https://x/a.webp", "caption": "no"},
            "content.media.caption",
            "no caption",
        ),
        (
            {"type": "MEDIA_TYPE_IMAGE", "attachment": "tenants/t/attachments/a"},
            "content.media.attachment",
            "UploadMedia",
        ),
        ({"type": "MEDIA_TYPE_IMAGE"}, "content.media", "source"),
        ({"type": "MEDIA_TYPE_IMAGE", "url": "file:///etc/passwd"}, "content.media.url", "http"),
        ({"url": "https://x/a.jpg"}, "content.media.type", "required"),
    ],
)
def test_media_limits_are_enforced_before_calling_meta(
    media: dict[str, Any], field: str, words: str
) -> None:
    violation = violation_of(content(media=media))
    assert violation.field == field
    assert words in violation.problem


def test_text_limit() -> None:
    assert body_of(content(text={"body": "x" * 4096}))["text"]["body"] == "x" * 4096
    violation = violation_of(content(text={"body": "x" * 4097}))
    assert (violation.field, "4096" in violation.problem) == ("content.text.body", True)
    assert violation_of(content(text={"body": "  "})).field == "content.text.body"


def test_location() -> None:
    body = body_of(
        content(
            location={
                "latitude": 37.48,
                "longitude": -122.14,
                "name": "HQ",
                "address": "1 Hacker Way",
            }
        )
    )
    assert body["location"] == {
        "latitude": 37.48,
        "longitude": -122.14,
        "name": "HQ",
        "address": "1 Hacker Way",
    }
    assert violation_of(content(location={"latitude": 91})).field == "content.location.latitude"


def test_contacts_is_a_list_with_the_documented_shape() -> None:
    body = body_of(
        content(
            contacts={
                "contacts": [
                    {
                        "formattedName": "Barbara J. Johnson",
                        "firstName": "Barbara",
                        "lastName": "Johnson",
                        "phones": [
                            {"number": "+1 650 555 1234", "type": "WORK", "waId": "16505551234"}
                        ],
                        "emails": [{"address": "b@example.com", "type": "WORK"}],
                        "organization": "Example, Inc.",
                        "title": "Manager",
                        "urls": ["https://example.com"],
                        "birthday": "1999-01-23",
                    },
                    {"formattedName": "Solo"},
                ]
            }
        )
    )
    assert body["type"] == "contacts"
    assert body["contacts"] == [
        {
            "name": {
                "formatted_name": "Barbara J. Johnson",
                "first_name": "Barbara",
                "last_name": "Johnson",
            },
            "phones": [{"phone": "+1 650 555 1234", "type": "WORK", "wa_id": "16505551234"}],
            "emails": [{"email": "b@example.com", "type": "WORK"}],
            "org": {"company": "Example, Inc.", "title": "Manager"},
            "urls": [{"url": "https://example.com"}],
            "birthday": "1999-01-23",
        },
        {"name": {"formatted_name": "Solo", "first_name": "Solo"}},
    ]
    violation = violation_of(
        content(contacts={"contacts": [{"formattedName": "A", "birthday": "23/01/1999"}]})
    )
    assert violation.field == "content.contacts.contacts[0].birthday"


def test_reaction_uses_the_provider_message_id_and_no_context() -> None:
    body = body_of(
        content(
            reaction={
                "message": "tenants/t/conversations/c/messages/m",
                "emoji": "👍",
                "providerMessageId": "wamid.A",
            }
        ),
        "wamid.A",
    )
    assert body["reaction"] == {"message_id": "wamid.A", "emoji": "👍"}
    assert "context" not in body
    removal = body_of(content(reaction={"message": "m", "providerMessageId": "wamid.A"}))
    assert removal["reaction"] == {"message_id": "wamid.A", "emoji": ""}
    assert (
        violation_of(content(reaction={"message": "m", "emoji": "👍"})).field
        == "content.reaction.provider_message_id"
    )


def test_rich_cards_are_not_whatsapp_content() -> None:
    assert violation_of(content(richCard={"title": "t"})).field == "content.rich_card"
