"""What a Web Chat channel can do, declared to the core (GetCapabilities).

The widget renders text, media (by URL or attachment) with a download link or inline
preview, reply buttons and quick replies; the visitor's browser acknowledges delivery and
reads over its socket, so the channel reports both. There is no reply window: a visitor
may come back any time and read what the agent wrote meanwhile.
"""

from __future__ import annotations

from google.protobuf import duration_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapters.webchat.config import CONFIG_KEYS, MAX_TEXT_LENGTH, MIB
from linktor.v1 import channel_pb2, common_pb2, content_pb2

ADAPTER_NAME = "linktor-webchat"
ADAPTER_VERSION = "0.1.0"

MAX_BUTTONS = 5
MAX_QUICK_REPLIES = 10
MAX_CAPTION_LENGTH = 1024
# Agents' media is fetched by the visitor's browser; these bound what a page should load.
MEDIA_LIMITS = {
    content_pb2.MEDIA_TYPE_IMAGE: (("image/jpeg", "image/png", "image/gif", "image/webp"), 10),
    content_pb2.MEDIA_TYPE_VIDEO: (("video/mp4", "video/webm"), 50),
    content_pb2.MEDIA_TYPE_AUDIO: (("audio/mpeg", "audio/ogg", "audio/mp4", "audio/webm"), 20),
    content_pb2.MEDIA_TYPE_DOCUMENT: (
        ("application/pdf", "text/plain", "text/csv", "application/zip"),
        50,
    ),
}

CONTENT_KINDS = (
    channel_pb2.CONTENT_KIND_TEXT,
    channel_pb2.CONTENT_KIND_IMAGE,
    channel_pb2.CONTENT_KIND_VIDEO,
    channel_pb2.CONTENT_KIND_AUDIO,
    channel_pb2.CONTENT_KIND_DOCUMENT,
    channel_pb2.CONTENT_KIND_BUTTONS,
    channel_pb2.CONTENT_KIND_QUICK_REPLIES,
)


def channel_capabilities() -> channel_pb2.ChannelCapabilities:
    return channel_pb2.ChannelCapabilities(
        content_kinds=list(CONTENT_KINDS),
        max_text_length=MAX_TEXT_LENGTH,
        max_caption_length=MAX_CAPTION_LENGTH,
        media_limits=[
            channel_pb2.MediaLimit(
                type=media_type, mime_types=list(mimes), max_size_bytes=megabytes * MIB
            )
            for media_type, (mimes, megabytes) in MEDIA_LIMITS.items()
        ],
        max_buttons=MAX_BUTTONS,
        max_quick_replies=MAX_QUICK_REPLIES,
        supports_reply_to=False,
        supports_read_receipts=True,
        supports_typing=True,
        reports_delivery=True,
        reports_read=True,
        reply_window=duration_pb2.Duration(),
        supports_templates=False,
    )


def capabilities_response() -> adapter_pb2.GetCapabilitiesResponse:
    return adapter_pb2.GetCapabilitiesResponse(
        channel_type=common_pb2.CHANNEL_TYPE_WEBCHAT,
        adapter_name=ADAPTER_NAME,
        adapter_version=ADAPTER_VERSION,
        capabilities=channel_capabilities(),
        config_fields=[
            adapter_pb2.ConfigField(key=k.key, description=k.description, default_value=k.default)
            for k in CONFIG_KEYS
        ],
    )
