"""Which ContentKind (the capability vocabulary) a canonical MessageContent is."""

from __future__ import annotations

from linktor.v1 import channel_pb2, content_pb2

K = channel_pb2.ContentKind
MediaType = content_pb2.MediaType

_MEDIA_KINDS = {
    MediaType.MEDIA_TYPE_IMAGE: K.CONTENT_KIND_IMAGE,
    MediaType.MEDIA_TYPE_VIDEO: K.CONTENT_KIND_VIDEO,
    MediaType.MEDIA_TYPE_AUDIO: K.CONTENT_KIND_AUDIO,
    MediaType.MEDIA_TYPE_VOICE: K.CONTENT_KIND_VOICE,
    MediaType.MEDIA_TYPE_DOCUMENT: K.CONTENT_KIND_DOCUMENT,
    MediaType.MEDIA_TYPE_STICKER: K.CONTENT_KIND_STICKER,
}

_INTERACTIVE_KINDS = {
    "buttons": K.CONTENT_KIND_BUTTONS,
    "list": K.CONTENT_KIND_LIST,
    "quick_replies": K.CONTENT_KIND_QUICK_REPLIES,
    "cta_url": K.CONTENT_KIND_CTA_URL,
    "product": K.CONTENT_KIND_PRODUCT,
    "product_list": K.CONTENT_KIND_PRODUCT_LIST,
}

_SIMPLE_KINDS = {
    "text": K.CONTENT_KIND_TEXT,
    "location": K.CONTENT_KIND_LOCATION,
    "contacts": K.CONTENT_KIND_CONTACTS,
    "template": K.CONTENT_KIND_TEMPLATE,
    "reaction": K.CONTENT_KIND_REACTION,
    "rich_card": K.CONTENT_KIND_RICH_CARD,
    "carousel": K.CONTENT_KIND_CAROUSEL,
}

# Content a contact sends but a business cannot.
INBOUND_ONLY = frozenset({"interactive_reply", "order", "system", "unsupported"})


def content_kind(content: content_pb2.MessageContent) -> int:
    """The ContentKind of ``content``; CONTENT_KIND_UNSPECIFIED when nothing (or an
    inbound-only kind) is set."""
    which = content.WhichOneof("kind")
    if which == "media":
        return _MEDIA_KINDS.get(content.media.type, K.CONTENT_KIND_UNSPECIFIED)
    if which == "interactive":
        action = content.interactive.WhichOneof("action")
        return _INTERACTIVE_KINDS.get(action or "", K.CONTENT_KIND_UNSPECIFIED)
    return _SIMPLE_KINDS.get(which or "", K.CONTENT_KIND_UNSPECIFIED)


def kind_name(kind: int) -> str:
    """A readable name such as "BUTTONS" for error messages."""
    return K.Name(kind).removeprefix("CONTENT_KIND_")  # type: ignore[arg-type]


def plain_text(content: content_pb2.MessageContent) -> str:
    """The human-readable text of any content, for search, previews and SMS fallbacks."""
    which = content.WhichOneof("kind")
    if which == "text":
        return content.text.body
    if which == "media":
        label = MediaType.Name(content.media.type).removeprefix("MEDIA_TYPE_").lower()
        return content.media.caption or content.media.filename or f"[{label}]"
    if which == "location":
        loc = content.location
        return loc.name or loc.address or f"[location {loc.latitude:.5f},{loc.longitude:.5f}]"
    if which == "contacts":
        return ", ".join(c.formatted_name for c in content.contacts.contacts) or "[contacts]"
    if which == "template":
        texts = [p.text for c in content.template.components for p in c.parameters if p.text]
        return " ".join([f"[template {content.template.name}]", *texts])
    if which == "interactive":
        return content.interactive.body or "[interactive]"
    if which == "reaction":
        return content.reaction.emoji or "[reaction removed]"
    if which == "rich_card":
        return " ".join(x for x in (content.rich_card.title, content.rich_card.description) if x)
    if which == "carousel":
        return " | ".join(card.title for card in content.carousel.cards) or "[carousel]"
    if which == "interactive_reply":
        return content.interactive_reply.title or content.interactive_reply.id
    if which == "order":
        return content.order.text or f"[order of {len(content.order.items)} items]"
    if which == "system":
        return content.system.body or f"[{content.system.type}]"
    if which == "unsupported":
        return f"[unsupported {content.unsupported.provider_type}]".strip()
    return ""
