"""Validation of outbound canonical content: channel-independent rules, then the limits the
target channel declared in its capabilities. Every problem is a field violation naming the
field (``content.interactive.buttons.buttons[3].title``), all reported at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from linktor.server.messaging.domain.content_kind import INBOUND_ONLY
from linktor.server.shared.errors import FieldViolation, InvalidArgument
from linktor.v1 import channel_pb2, content_pb2

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTON_TITLE = 20
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_HEADER_TEXT = 60
MAX_FOOTER = 60
MAX_ID = 256
MAX_CONTACT_CARDS = 10
MAX_SUGGESTIONS = 4
DEFAULT_MAX_BUTTONS = 3
DEFAULT_MAX_LIST_ROWS = 10
DEFAULT_MAX_QUICK_REPLIES = 13
DEFAULT_MAX_CARDS = 10
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_ATTACHMENT = re.compile(r"^tenants/[a-z0-9-]+/attachments/[a-z0-9-]+$")


class Violations:
    """Collects field violations under a path prefix."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def length(self, field: str, value: str, maximum: int, *, required: bool = False) -> None:
        if required and not value.strip():
            self.add(field, "is required")
        elif len(value) > maximum:
            self.add(field, f"must be at most {maximum} characters (got {len(value)})")

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
            raise InvalidArgument(f"{first.field}: {first.description}{more}", self.items)


def _url(v: Violations, field: str, url: str, *, required: bool = True) -> None:
    if not url:
        if required:
            v.add(field, "is required")
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        v.add(field, f"must be an http(s) URL, got {url[:80]!r}")


def validate_content(
    content: content_pb2.MessageContent, capabilities: channel_pb2.ChannelCapabilities | None = None
) -> None:
    """Raise InvalidArgument listing every problem of ``content`` for sending."""
    v = Violations()
    which = content.WhichOneof("kind")
    caps = capabilities or channel_pb2.ChannelCapabilities()
    if which is None:
        v.add("content", "one kind of content (text, media, location, ...) is required")
    elif which in INBOUND_ONLY:
        v.add(f"content.{which}", "is only received from contacts and cannot be sent")
    else:
        _CHECKS[which](v, f"content.{which}", getattr(content, which), caps)
    v.raise_if_any()


def _text(
    v: Violations, f: str, text: content_pb2.TextContent, caps: channel_pb2.ChannelCapabilities
) -> None:
    v.length(f"{f}.body", text.body, min(MAX_TEXT, caps.max_text_length or MAX_TEXT), required=True)


def media_checks(
    v: Violations, f: str, media: content_pb2.MediaContent, caps: channel_pb2.ChannelCapabilities
) -> None:
    if media.type == content_pb2.MEDIA_TYPE_UNSPECIFIED:
        v.add(f"{f}.type", "is required (IMAGE, VIDEO, AUDIO, VOICE, DOCUMENT or STICKER)")
    source = media.WhichOneof("source")
    if source is None:
        v.add(f"{f}.source", "one of url, attachment or provider_media_id is required")
    elif source == "url":
        _url(v, f"{f}.url", media.url)
    elif source == "attachment" and not _ATTACHMENT.match(media.attachment):
        v.add(f"{f}.attachment", "must be an attachment name tenants/{tenant}/attachments/{id}")
    if media.mime_type and not _MIME.match(media.mime_type.lower()):
        v.add(f"{f}.mime_type", f"{media.mime_type!r} is not a media type like image/jpeg")
    if media.size_bytes < 0:
        v.add(f"{f}.size_bytes", "must not be negative")
    if media.caption:
        if media.type in (
            content_pb2.MEDIA_TYPE_AUDIO,
            content_pb2.MEDIA_TYPE_VOICE,
            content_pb2.MEDIA_TYPE_STICKER,
        ):
            v.add(f"{f}.caption", "audio, voice notes and stickers cannot have a caption")
        v.length(
            f"{f}.caption", media.caption, min(MAX_CAPTION, caps.max_caption_length or MAX_CAPTION)
        )
    limit = next((m for m in caps.media_limits if m.type == media.type), None)
    if limit is not None:
        mime = media.mime_type.lower()
        if mime and limit.mime_types and mime not in [m.lower() for m in limit.mime_types]:
            allowed = ", ".join(limit.mime_types)
            v.add(f"{f}.mime_type", f"{mime} is not accepted by this channel (accepted: {allowed})")
        if limit.max_size_bytes and media.size_bytes > limit.max_size_bytes:
            v.add(
                f"{f}.size_bytes",
                f"{media.size_bytes} bytes is over this channel's limit of {limit.max_size_bytes}",
            )


def _location(
    v: Violations, f: str, loc: content_pb2.LocationContent, _caps: channel_pb2.ChannelCapabilities
) -> None:
    if not -90 <= loc.latitude <= 90:
        v.add(f"{f}.latitude", "must be between -90 and 90")
    if not -180 <= loc.longitude <= 180:
        v.add(f"{f}.longitude", "must be between -180 and 180")
    v.length(f"{f}.name", loc.name, 1000)
    v.length(f"{f}.address", loc.address, 1000)
    if loc.url:
        _url(v, f"{f}.url", loc.url)


def _contacts(
    v: Violations,
    f: str,
    contacts: content_pb2.ContactsContent,
    _caps: channel_pb2.ChannelCapabilities,
) -> None:
    if not 1 <= len(contacts.contacts) <= MAX_CONTACT_CARDS:
        v.add(f"{f}.contacts", f"must hold 1 to {MAX_CONTACT_CARDS} cards")
    for i, card in enumerate(contacts.contacts):
        v.length(f"{f}.contacts[{i}].formatted_name", card.formatted_name, 200, required=True)


def _template(
    v: Violations, f: str, tpl: content_pb2.TemplateContent, _caps: channel_pb2.ChannelCapabilities
) -> None:
    v.length(f"{f}.name", tpl.name, 512, required=True)
    v.length(f"{f}.language", tpl.language, 15, required=True)
    for i, component in enumerate(tpl.components):
        if component.type == content_pb2.TEMPLATE_COMPONENT_TYPE_UNSPECIFIED:
            v.add(f"{f}.components[{i}].type", "is required (HEADER, BODY, BUTTON or FOOTER)")
        for j, param in enumerate(component.parameters):
            if param.WhichOneof("value") is None:
                v.add(f"{f}.components[{i}].parameters[{j}]", "needs a value")
            elif param.WhichOneof("value") == "media":
                media_checks(
                    v,
                    f"{f}.components[{i}].parameters[{j}].media",
                    param.media,
                    channel_pb2.ChannelCapabilities(),
                )


def _ids_unique(v: Violations, field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if not ident:
            v.add(f"{field}[{i}].id", "is required")
        elif len(ident) > MAX_ID:
            v.add(f"{field}[{i}].id", f"must be at most {MAX_ID} characters")
        elif ident in seen:
            v.add(f"{field}[{i}].id", f"{ident!r} is used twice; ids must be unique")
        seen.add(ident)


def _interactive(
    v: Violations, f: str, it: content_pb2.InteractiveContent, caps: channel_pb2.ChannelCapabilities
) -> None:
    action = it.WhichOneof("action")
    if action is None:
        v.add(
            f"{f}.action",
            "one of buttons, list, quick_replies, cta_url, product, product_list is required",
        )
        return
    is_product = action in ("product", "product_list")
    v.length(f"{f}.body", it.body, 1024, required=not is_product)
    v.length(f"{f}.footer", it.footer, MAX_FOOTER)
    if it.header.WhichOneof("kind") == "text":
        v.length(f"{f}.header.text", it.header.text, MAX_HEADER_TEXT)
    elif it.header.WhichOneof("kind") == "media":
        media_checks(v, f"{f}.header.media", it.header.media, caps)
    a = f"{f}.{action}"
    if action == "buttons":
        maximum = caps.max_buttons or DEFAULT_MAX_BUTTONS
        if not 1 <= len(it.buttons.buttons) <= maximum:
            v.add(f"{a}.buttons", f"must hold 1 to {maximum} buttons on this channel")
        _ids_unique(v, f"{a}.buttons", [b.id for b in it.buttons.buttons])
        for i, b in enumerate(it.buttons.buttons):
            v.length(f"{a}.buttons[{i}].title", b.title, MAX_BUTTON_TITLE, required=True)
    elif action == "list":
        v.length(f"{a}.button_text", it.list.button_text, MAX_BUTTON_TITLE, required=True)
        rows = [r for s in it.list.sections for r in s.rows]
        maximum = caps.max_list_rows or DEFAULT_MAX_LIST_ROWS
        if not it.list.sections or not 1 <= len(rows) <= maximum:
            v.add(f"{a}.sections", f"must hold 1 to {maximum} rows in all on this channel")
        _ids_unique(v, f"{a}.rows", [r.id for r in rows])
        for i, s in enumerate(it.list.sections):
            if len(it.list.sections) > 1:
                v.length(f"{a}.sections[{i}].title", s.title, MAX_ROW_TITLE, required=True)
            for j, r in enumerate(s.rows):
                v.length(
                    f"{a}.sections[{i}].rows[{j}].title", r.title, MAX_ROW_TITLE, required=True
                )
                v.length(
                    f"{a}.sections[{i}].rows[{j}].description", r.description, MAX_ROW_DESCRIPTION
                )
    elif action == "quick_replies":
        maximum = caps.max_quick_replies or DEFAULT_MAX_QUICK_REPLIES
        if not 1 <= len(it.quick_replies.replies) <= maximum:
            v.add(f"{a}.replies", f"must hold 1 to {maximum} quick replies on this channel")
        _ids_unique(v, f"{a}.replies", [r.id for r in it.quick_replies.replies])
        for i, reply in enumerate(it.quick_replies.replies):
            v.length(f"{a}.replies[{i}].title", reply.title, MAX_BUTTON_TITLE, required=True)
    elif action == "cta_url":
        v.length(f"{a}.display_text", it.cta_url.display_text, MAX_BUTTON_TITLE, required=True)
        _url(v, f"{a}.url", it.cta_url.url)
    elif action == "product":
        v.length(f"{a}.catalog_id", it.product.catalog_id, 128, required=True)
        v.length(f"{a}.product_retailer_id", it.product.product_retailer_id, 128, required=True)
    else:
        v.length(f"{a}.catalog_id", it.product_list.catalog_id, 128, required=True)
        count = sum(len(s.product_retailer_ids) for s in it.product_list.sections)
        if not it.product_list.sections or not 1 <= count <= 30:
            v.add(f"{a}.sections", "must hold 1 to 30 products in all")


def _reaction(
    v: Violations,
    f: str,
    reaction: content_pb2.ReactionContent,
    _caps: channel_pb2.ChannelCapabilities,
) -> None:
    v.length(f"{f}.message", reaction.message, 512, required=True)
    v.length(f"{f}.emoji", reaction.emoji, 16)


def _rich_card(
    v: Violations, f: str, card: content_pb2.RichCardContent, caps: channel_pb2.ChannelCapabilities
) -> None:
    if not (card.title or card.description or card.HasField("media")):
        v.add(f, "needs a title, a description or media")
    v.length(f"{f}.title", card.title, 200)
    v.length(f"{f}.description", card.description, 2000)
    if card.HasField("media"):
        media_checks(v, f"{f}.media", card.media, caps)
    if len(card.suggestions) > MAX_SUGGESTIONS:
        v.add(f"{f}.suggestions", f"must hold at most {MAX_SUGGESTIONS} suggestions")
    for i, s in enumerate(card.suggestions):
        v.length(f"{f}.suggestions[{i}].text", s.text, 25, required=True)
        if s.WhichOneof("action") == "open_url":
            _url(v, f"{f}.suggestions[{i}].open_url.url", s.open_url.url)


def _carousel(
    v: Violations,
    f: str,
    carousel: content_pb2.CarouselContent,
    caps: channel_pb2.ChannelCapabilities,
) -> None:
    maximum = caps.max_carousel_cards or DEFAULT_MAX_CARDS
    if not 2 <= len(carousel.cards) <= maximum:
        v.add(f"{f}.cards", f"must hold 2 to {maximum} cards on this channel")
    for i, card in enumerate(carousel.cards):
        _rich_card(v, f"{f}.cards[{i}]", card, caps)


def _media(
    v: Violations, f: str, media: content_pb2.MediaContent, caps: channel_pb2.ChannelCapabilities
) -> None:
    media_checks(v, f, media, caps)


_Check = Callable[[Violations, str, Any, channel_pb2.ChannelCapabilities], None]

_CHECKS: dict[str, _Check] = {
    "text": _text,
    "media": _media,
    "location": _location,
    "contacts": _contacts,
    "template": _template,
    "interactive": _interactive,
    "reaction": _reaction,
    "rich_card": _rich_card,
    "carousel": _carousel,
}
