"""A small valid message of every content kind, for exercising Send."""

from __future__ import annotations

from linktor.v1 import channel_pb2, content_pb2

C = content_pb2
K = channel_pb2

_IMAGE = C.MediaContent(
    type=C.MEDIA_TYPE_IMAGE, url="https://example.com/a.jpg", mime_type="image/jpeg"
)


def _media(media_type: content_pb2.MediaType.ValueType, url: str, mime: str) -> C.MessageContent:
    return C.MessageContent(media=C.MediaContent(type=media_type, url=url, mime_type=mime))


def _interactive(**action: object) -> C.MessageContent:
    return C.MessageContent(interactive=C.InteractiveContent(body="Pick one", **action))  # type: ignore[arg-type]


def sample_content(kind: int) -> content_pb2.MessageContent:
    """A minimal, valid MessageContent of ``kind`` (a linktor.v1.ContentKind value)."""
    samples = {
        K.CONTENT_KIND_TEXT: lambda: C.MessageContent(text=C.TextContent(body="conformance text")),
        K.CONTENT_KIND_IMAGE: lambda: C.MessageContent(media=_IMAGE),
        K.CONTENT_KIND_VIDEO: lambda: _media(
            C.MEDIA_TYPE_VIDEO, "https://example.com/a.mp4", "video/mp4"
        ),
        K.CONTENT_KIND_AUDIO: lambda: _media(
            C.MEDIA_TYPE_AUDIO, "https://example.com/a.mp3", "audio/mpeg"
        ),
        K.CONTENT_KIND_VOICE: lambda: _media(
            C.MEDIA_TYPE_VOICE, "https://example.com/a.ogg", "audio/ogg"
        ),
        K.CONTENT_KIND_DOCUMENT: lambda: _media(
            C.MEDIA_TYPE_DOCUMENT, "https://example.com/a.pdf", "application/pdf"
        ),
        K.CONTENT_KIND_STICKER: lambda: _media(
            C.MEDIA_TYPE_STICKER, "https://example.com/a.webp", "image/webp"
        ),
        K.CONTENT_KIND_LOCATION: lambda: C.MessageContent(
            location=C.LocationContent(latitude=52.52, longitude=13.405, name="Berlin")
        ),
        K.CONTENT_KIND_CONTACTS: lambda: C.MessageContent(
            contacts=C.ContactsContent(
                contacts=[
                    C.ContactCard(
                        formatted_name="Ann Lee", phones=[C.ContactCardPhone(number="+15550001")]
                    )
                ]
            )
        ),
        K.CONTENT_KIND_TEMPLATE: lambda: C.MessageContent(
            template=C.TemplateContent(name="hello_world", language="en_US")
        ),
        K.CONTENT_KIND_BUTTONS: lambda: _interactive(
            buttons=C.ReplyButtons(
                buttons=[C.Button(id="yes", title="Yes"), C.Button(id="no", title="No")]
            )
        ),
        K.CONTENT_KIND_LIST: lambda: _interactive(
            list=C.ListAction(
                button_text="Options",
                sections=[C.ListSection(title="A", rows=[C.ListRow(id="r1", title="Row 1")])],
            )
        ),
        K.CONTENT_KIND_QUICK_REPLIES: lambda: _interactive(
            quick_replies=C.QuickReplies(replies=[C.QuickReply(id="q1", title="Yes")])
        ),
        K.CONTENT_KIND_CTA_URL: lambda: _interactive(
            cta_url=C.CtaUrlAction(display_text="Open", url="https://example.com")
        ),
        K.CONTENT_KIND_PRODUCT: lambda: _interactive(
            product=C.ProductAction(catalog_id="cat1", product_retailer_id="sku1")
        ),
        K.CONTENT_KIND_PRODUCT_LIST: lambda: _interactive(
            product_list=C.ProductListAction(
                catalog_id="cat1",
                sections=[C.ProductSection(title="All", product_retailer_ids=["sku1"])],
            )
        ),
        K.CONTENT_KIND_REACTION: lambda: C.MessageContent(
            reaction=C.ReactionContent(
                message="m1", emoji="\N{THUMBS UP SIGN}", provider_message_id="p1"
            )
        ),
        K.CONTENT_KIND_RICH_CARD: lambda: C.MessageContent(
            rich_card=C.RichCardContent(title="Card", description="A card", media=_IMAGE)
        ),
        K.CONTENT_KIND_CAROUSEL: lambda: C.MessageContent(
            carousel=C.CarouselContent(
                cards=[
                    C.RichCardContent(title="One", media=_IMAGE),
                    C.RichCardContent(title="Two", media=_IMAGE),
                ]
            )
        ),
    }
    build = samples.get(kind)  # type: ignore[call-overload]
    if build is None:
        raise ValueError(f"no sample for content kind {kind}")
    return build()  # type: ignore[no-any-return]
