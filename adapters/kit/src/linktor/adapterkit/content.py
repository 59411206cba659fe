"""Which ContentKind a canonical message is, for checks against declared capabilities."""

from __future__ import annotations

from linktor.v1 import channel_pb2, content_pb2

ContentKind = channel_pb2.ContentKind

_MEDIA_KINDS: dict[int, int] = {
    content_pb2.MEDIA_TYPE_IMAGE: channel_pb2.CONTENT_KIND_IMAGE,
    content_pb2.MEDIA_TYPE_VIDEO: channel_pb2.CONTENT_KIND_VIDEO,
    content_pb2.MEDIA_TYPE_AUDIO: channel_pb2.CONTENT_KIND_AUDIO,
    content_pb2.MEDIA_TYPE_VOICE: channel_pb2.CONTENT_KIND_VOICE,
    content_pb2.MEDIA_TYPE_DOCUMENT: channel_pb2.CONTENT_KIND_DOCUMENT,
    content_pb2.MEDIA_TYPE_STICKER: channel_pb2.CONTENT_KIND_STICKER,
}

_INTERACTIVE_KINDS: dict[str, int] = {
    "buttons": channel_pb2.CONTENT_KIND_BUTTONS,
    "list": channel_pb2.CONTENT_KIND_LIST,
    "quick_replies": channel_pb2.CONTENT_KIND_QUICK_REPLIES,
    "cta_url": channel_pb2.CONTENT_KIND_CTA_URL,
    "product": channel_pb2.CONTENT_KIND_PRODUCT,
    "product_list": channel_pb2.CONTENT_KIND_PRODUCT_LIST,
}

_SIMPLE_KINDS: dict[str, int] = {
    "text": channel_pb2.CONTENT_KIND_TEXT,
    "location": channel_pb2.CONTENT_KIND_LOCATION,
    "contacts": channel_pb2.CONTENT_KIND_CONTACTS,
    "template": channel_pb2.CONTENT_KIND_TEMPLATE,
    "reaction": channel_pb2.CONTENT_KIND_REACTION,
    "rich_card": channel_pb2.CONTENT_KIND_RICH_CARD,
    "carousel": channel_pb2.CONTENT_KIND_CAROUSEL,
}

# Every kind a business can send (CONTENT_KIND_UNSPECIFIED excluded).
SENDABLE_KINDS: tuple[int, ...] = tuple(
    value for value in channel_pb2.ContentKind.values() if value != 0
)


def content_kind(content: content_pb2.MessageContent) -> int:
    """The ContentKind of an outbound message; CONTENT_KIND_UNSPECIFIED when it has none
    (empty content, or inbound-only kinds: interactive replies, orders, system messages)."""
    which = content.WhichOneof("kind")
    if which is None:
        return channel_pb2.CONTENT_KIND_UNSPECIFIED
    if which == "media":
        return _MEDIA_KINDS.get(content.media.type, channel_pb2.CONTENT_KIND_UNSPECIFIED)
    if which == "interactive":
        action = content.interactive.WhichOneof("action")
        return _INTERACTIVE_KINDS.get(action or "", channel_pb2.CONTENT_KIND_UNSPECIFIED)
    return _SIMPLE_KINDS.get(which, channel_pb2.CONTENT_KIND_UNSPECIFIED)


def kind_name(kind: int) -> str:
    """``CONTENT_KIND_IMAGE`` -> ``image``."""
    try:
        return channel_pb2.ContentKind.Name(kind).removeprefix("CONTENT_KIND_").lower()  # type: ignore[arg-type]
    except ValueError:
        return f"kind {kind}"
