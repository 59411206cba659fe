"""The limits Meta documents for Cloud API messages, in one place.

The adapter checks content against these before calling Meta, so a message that Meta
would refuse fails fast with a field name instead of an opaque error code. The same
numbers feed the capabilities the core validates and degrades content with.
"""

from __future__ import annotations

from dataclasses import dataclass

from linktor.v1 import content_pb2

# Text and captions (characters).
TEXT_BODY_MAX = 4096
MEDIA_CAPTION_MAX = 1024
DOCUMENT_FILENAME_MAX = 240

# Interactive messages (characters unless stated otherwise).
INTERACTIVE_BODY_MAX = 1024
INTERACTIVE_HEADER_TEXT_MAX = 60
INTERACTIVE_FOOTER_MAX = 60
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_TITLE_MAX = 20
REPLY_BUTTON_ID_MAX = 256
LIST_BUTTON_TEXT_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
LIST_SECTION_TITLE_MAX = 24
LIST_ROW_ID_MAX = 200
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72
CTA_URL_DISPLAY_TEXT_MAX = 20
PRODUCT_LIST_SECTIONS_MAX = 10
PRODUCT_LIST_PRODUCTS_MAX = 30
PRODUCT_LIST_HEADER_TEXT_MAX = 60

# Contacts and reactions.
CONTACT_CARDS_MAX = 10

# Template messages.
TEMPLATE_NAME_MAX = 512
TEMPLATE_TEXT_PARAMETER_MAX = 32768
TEMPLATE_HEADER_TEXT_PARAMETER_MAX = 60

# Throughput (messages per second per business phone number).
DEFAULT_MESSAGES_PER_SECOND = 80
MAX_MESSAGES_PER_SECOND = 1000

# The customer service window: free-form messages only within 24 hours of the user's
# last message.
REPLY_WINDOW_SECONDS = 24 * 60 * 60

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class MediaRule:
    """What Meta accepts for one kind of media: the WhatsApp type name, mime types, size."""

    whatsapp_type: str
    mime_types: tuple[str, ...]
    max_size_bytes: int
    # Animated stickers may be larger than static ones; Meta documents both limits.
    animated_max_size_bytes: int = 0
    supports_caption: bool = False
    supports_filename: bool = False


_AUDIO_MIME_TYPES = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")

MEDIA_RULES: dict[content_pb2.MediaType.ValueType, MediaRule] = {
    content_pb2.MEDIA_TYPE_IMAGE: MediaRule(
        "image", ("image/jpeg", "image/png"), 5 * MIB, supports_caption=True
    ),
    content_pb2.MEDIA_TYPE_VIDEO: MediaRule(
        "video", ("video/mp4", "video/3gpp"), 16 * MIB, supports_caption=True
    ),
    content_pb2.MEDIA_TYPE_AUDIO: MediaRule("audio", _AUDIO_MIME_TYPES, 16 * MIB),
    # A voice note is an audio message whose file is OGG/Opus; WhatsApp shows it as a
    # push-to-talk recording.
    content_pb2.MEDIA_TYPE_VOICE: MediaRule("audio", ("audio/ogg",), 16 * MIB),
    content_pb2.MEDIA_TYPE_DOCUMENT: MediaRule(
        "document",
        (
            "text/plain",
            "application/pdf",
            "application/vnd.ms-powerpoint",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        100 * MIB,
        supports_caption=True,
        supports_filename=True,
    ),
    content_pb2.MEDIA_TYPE_STICKER: MediaRule(
        "sticker", ("image/webp",), 100 * KIB, animated_max_size_bytes=500 * KIB
    ),
}


def media_rule(media_type: content_pb2.MediaType.ValueType) -> MediaRule | None:
    """The rule for a canonical MediaType, or None for MEDIA_TYPE_UNSPECIFIED."""
    return MEDIA_RULES.get(media_type)


def base_mime_type(mime_type: str) -> str:
    """The media type without parameters: "audio/ogg; codecs=opus" -> "audio/ogg"."""
    return mime_type.split(";", 1)[0].strip().lower()
