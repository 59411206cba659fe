"""What a WhatsApp channel can do, declared to the core (GetCapabilities).

The core validates and degrades outbound content with these numbers, keeps the 24-hour
customer service window as conversation state from ``reply_window``, and paces sends
through its rate limiter from ``default_rate_limit`` (Meta's 80 messages per second per
number, up to 1,000 for numbers Meta upgraded).
"""

from __future__ import annotations

from google.protobuf import duration_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapters.whatsapp import limits
from linktor.adapters.whatsapp.config import CONFIG_KEYS
from linktor.v1 import channel_pb2, common_pb2

ADAPTER_NAME = "linktor-whatsapp"
ADAPTER_VERSION = "0.1.0"

CONTENT_KINDS = (
    channel_pb2.CONTENT_KIND_TEXT,
    channel_pb2.CONTENT_KIND_IMAGE,
    channel_pb2.CONTENT_KIND_VIDEO,
    channel_pb2.CONTENT_KIND_AUDIO,
    channel_pb2.CONTENT_KIND_VOICE,
    channel_pb2.CONTENT_KIND_DOCUMENT,
    channel_pb2.CONTENT_KIND_STICKER,
    channel_pb2.CONTENT_KIND_LOCATION,
    channel_pb2.CONTENT_KIND_CONTACTS,
    channel_pb2.CONTENT_KIND_TEMPLATE,
    channel_pb2.CONTENT_KIND_BUTTONS,
    channel_pb2.CONTENT_KIND_LIST,
    channel_pb2.CONTENT_KIND_CTA_URL,
    channel_pb2.CONTENT_KIND_PRODUCT,
    channel_pb2.CONTENT_KIND_PRODUCT_LIST,
    channel_pb2.CONTENT_KIND_REACTION,
)


def channel_capabilities() -> channel_pb2.ChannelCapabilities:
    """The capabilities of every WhatsApp Cloud API channel."""
    media_limits = [
        channel_pb2.MediaLimit(
            type=media_type,
            mime_types=list(rule.mime_types),
            max_size_bytes=max(rule.max_size_bytes, rule.animated_max_size_bytes),
        )
        for media_type, rule in limits.MEDIA_RULES.items()
    ]
    return channel_pb2.ChannelCapabilities(
        content_kinds=list(CONTENT_KINDS),
        max_text_length=limits.TEXT_BODY_MAX,
        max_caption_length=limits.MEDIA_CAPTION_MAX,
        media_limits=media_limits,
        max_buttons=limits.REPLY_BUTTONS_MAX,
        max_list_rows=limits.LIST_ROWS_MAX,
        max_quick_replies=0,
        max_carousel_cards=0,
        supports_reply_to=True,
        supports_read_receipts=True,
        supports_typing=True,
        reports_delivery=True,
        reports_read=True,
        reply_window=duration_pb2.Duration(seconds=limits.REPLY_WINDOW_SECONDS),
        default_rate_limit=common_pb2.RateLimit(
            per_second=limits.DEFAULT_MESSAGES_PER_SECOND, burst=limits.DEFAULT_MESSAGES_PER_SECOND
        ),
        max_rate_limit=common_pb2.RateLimit(
            per_second=limits.MAX_MESSAGES_PER_SECOND, burst=limits.MAX_MESSAGES_PER_SECOND
        ),
        supports_templates=True,
    )


def capabilities_response() -> adapter_pb2.GetCapabilitiesResponse:
    """The answer to GetCapabilities."""
    return adapter_pb2.GetCapabilitiesResponse(
        channel_type=common_pb2.CHANNEL_TYPE_WHATSAPP,
        adapter_name=ADAPTER_NAME,
        adapter_version=ADAPTER_VERSION,
        capabilities=channel_capabilities(),
        config_fields=[
            adapter_pb2.ConfigField(
                key=key.key,
                secret=key.secret,
                required=key.required,
                description=key.description,
                default_value=key.default,
            )
            for key in CONFIG_KEYS
        ],
    )
