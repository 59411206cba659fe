"""Where media can sit in canonical content: the message's own media, an interactive header,
rich cards, carousel cards and template parameters. Resolving attachments, uploading them to
a provider and fetching inbound media all walk the same places."""

from __future__ import annotations

from collections.abc import Iterator

from linktor.v1 import content_pb2

ATTACHMENT_PREFIX = "tenants/"


def media_parts(
    content: content_pb2.MessageContent,
) -> Iterator[tuple[str, content_pb2.MediaContent]]:
    """(field path, media) for every MediaContent of ``content``; the media are the content's
    own sub-messages, so changing them changes ``content``."""
    which = content.WhichOneof("kind")
    if which == "media":
        yield "content.media", content.media
    elif which == "interactive" and content.interactive.header.WhichOneof("kind") == "media":
        yield "content.interactive.header.media", content.interactive.header.media
    elif which == "rich_card" and content.rich_card.HasField("media"):
        yield "content.rich_card.media", content.rich_card.media
    elif which == "carousel":
        for i, card in enumerate(content.carousel.cards):
            if card.HasField("media"):
                yield f"content.carousel.cards[{i}].media", card.media
    elif which == "template":
        for i, component in enumerate(content.template.components):
            for j, parameter in enumerate(component.parameters):
                if parameter.WhichOneof("value") == "media":
                    path = f"content.template.components[{i}].parameters[{j}].media"
                    yield path, parameter.media


def attachment_id(media: content_pb2.MediaContent) -> str | None:
    """The attachment id of media sent from an attachment, else None."""
    if media.WhichOneof("source") != "attachment":
        return None
    return media.attachment.rsplit("/", 1)[-1]


def attachment_tenant(media: content_pb2.MediaContent) -> str:
    return media.attachment.split("/")[1] if media.attachment.count("/") == 3 else ""


def needs_fetch(media: content_pb2.MediaContent) -> bool:
    """Inbound media the provider still holds (an id or a URL of the provider)."""
    return media.WhichOneof("source") in ("provider_media_id", "url")
