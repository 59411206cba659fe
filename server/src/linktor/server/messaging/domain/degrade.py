"""Degrade rules: what to send when a channel cannot show a content kind (docs/messaging.md).

Each rule turns content into something the channel can show without losing what the recipient
needs to act: options become numbered text lines, a call-to-action becomes its label and link,
a card becomes its text plus link, a location becomes a maps link. Content with no sensible
fallback (templates, reactions, catalog products, uploaded files on a text-only channel) is
refused with a field violation instead of being silently mangled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linktor.server.messaging.domain.content_kind import content_kind, kind_name
from linktor.server.shared.errors import InvalidArgument
from linktor.v1 import channel_pb2, content_pb2

K = channel_pb2.ContentKind
_TEXT = K.CONTENT_KIND_TEXT


@dataclass(frozen=True)
class Adapted:
    """Content ready for a channel: ``content`` is what the adapter gets."""

    content: content_pb2.MessageContent
    # The kind that was degraded, or None when the content was sent as it is.
    degraded_from: str | None = None


def _text(body: str) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(text=content_pb2.TextContent(body=body.strip()))


def _lines(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def _numbered(titles: list[str]) -> str:
    return "\n".join(f"{i}. {t}" for i, t in enumerate(titles, start=1))


def _interactive_text(it: content_pb2.InteractiveContent) -> str | None:
    header = it.header.text if it.header.WhichOneof("kind") == "text" else ""
    action = it.WhichOneof("action")
    if action == "buttons":
        options = _numbered([b.title for b in it.buttons.buttons])
    elif action == "quick_replies":
        options = _numbered([r.title for r in it.quick_replies.replies])
    elif action == "list":
        rows = [r for s in it.list.sections for r in s.rows]
        options = _numbered(
            [f"{r.title} — {r.description}" if r.description else r.title for r in rows]
        )
    elif action == "cta_url":
        options = f"{it.cta_url.display_text}: {it.cta_url.url}"
    else:
        return None  # catalog products have no text form
    hint = "Reply with the number of your choice." if action != "cta_url" else ""
    return _lines(header, it.body, options, it.footer, hint)


def _card_text(card: content_pb2.RichCardContent) -> str:
    link = card.media.url if card.media.WhichOneof("source") == "url" else ""
    actions = []
    for s in card.suggestions:
        if s.WhichOneof("action") == "open_url":
            actions.append(f"{s.text}: {s.open_url.url}")
        elif s.WhichOneof("action") == "dial":
            actions.append(f"{s.text}: {s.dial.phone_number}")
        else:
            actions.append(s.text)
    return _lines(card.title, card.description, link, _numbered(actions) if actions else "")


def _location_text(loc: content_pb2.LocationContent) -> str:
    maps = f"https://maps.google.com/?q={loc.latitude:.6f},{loc.longitude:.6f}"
    return _lines(loc.name, loc.address, maps)


def _contacts_text(contacts: content_pb2.ContactsContent) -> str:
    cards = []
    for c in contacts.contacts:
        phones = ", ".join(p.number for p in c.phones)
        emails = ", ".join(e.address for e in c.emails)
        cards.append(_lines(c.formatted_name, phones, emails, c.organization))
    return "\n\n".join(cards)


def _media_fallback(
    media: content_pb2.MediaContent, caps: channel_pb2.ChannelCapabilities
) -> content_pb2.MessageContent | None:
    supported = set(caps.content_kinds)
    # A voice note can travel as an ordinary audio file.
    if media.type == content_pb2.MEDIA_TYPE_VOICE and K.CONTENT_KIND_AUDIO in supported:
        as_audio = content_pb2.MediaContent()
        as_audio.CopyFrom(media)
        as_audio.type = content_pb2.MEDIA_TYPE_AUDIO
        return content_pb2.MessageContent(media=as_audio)
    # A sticker can travel as an image.
    if media.type == content_pb2.MEDIA_TYPE_STICKER and K.CONTENT_KIND_IMAGE in supported:
        as_image = content_pb2.MediaContent()
        as_image.CopyFrom(media)
        as_image.type = content_pb2.MEDIA_TYPE_IMAGE
        return content_pb2.MessageContent(media=as_image)
    # Otherwise only a public link can be passed on as text.
    if media.WhichOneof("source") == "url" and _TEXT in supported:
        return _text(_lines(media.caption, media.url))
    return None


def _fallback(
    content: content_pb2.MessageContent, caps: channel_pb2.ChannelCapabilities
) -> content_pb2.MessageContent | None:
    which = content.WhichOneof("kind")
    if which == "media":
        return _media_fallback(content.media, caps)
    text_builders: dict[str, Callable[[], str | None]] = {
        "interactive": lambda: _interactive_text(content.interactive),
        "rich_card": lambda: _card_text(content.rich_card),
        "carousel": lambda: "\n\n".join(
            f"{i}. {_card_text(card)}" for i, card in enumerate(content.carousel.cards, start=1)
        ),
        "location": lambda: _location_text(content.location),
        "contacts": lambda: _contacts_text(content.contacts),
    }
    build = text_builders.get(which or "")
    body = build() if build else None
    if body is None or _TEXT not in caps.content_kinds:
        return None
    return _text(body)


def adapt(content: content_pb2.MessageContent, caps: channel_pb2.ChannelCapabilities) -> Adapted:
    """Content as the channel will get it; InvalidArgument when it cannot be shown at all."""
    kind = content_kind(content)
    supported = set(caps.content_kinds)
    if kind in supported:
        return Adapted(content)
    fallback = _fallback(content, caps)
    which = content.WhichOneof("kind") or "kind"
    if fallback is None:
        raise InvalidArgument.for_field(
            f"content.{which}",
            f"this channel cannot show {kind_name(kind)} content and there is no fallback for it",
        )
    limit = caps.max_text_length or 4096
    if fallback.WhichOneof("kind") == "text" and len(fallback.text.body) > limit:
        raise InvalidArgument.for_field(
            f"content.{which}",
            f"this channel cannot show {kind_name(kind)} content and its text form is longer "
            f"than the channel's {limit} characters",
        )
    return Adapted(fallback, degraded_from=kind_name(kind))
