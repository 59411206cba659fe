"""Canonical content: validation against capabilities, and the degrade rules."""

from __future__ import annotations

import pytest

from linktor.server.messaging.domain.degrade import adapt
from linktor.server.messaging.domain.validation import validate_content
from linktor.server.shared.errors import InvalidArgument
from linktor.v1 import channel_pb2, content_pb2

pytestmark = pytest.mark.unit

K = channel_pb2.ContentKind
TEXT_ONLY = channel_pb2.ChannelCapabilities(
    content_kinds=[K.CONTENT_KIND_TEXT], max_text_length=160 * 10
)


def fields(exc: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in exc.value.violations]


def test_empty_content_and_inbound_only_kinds_are_refused() -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_content(content_pb2.MessageContent())
    assert fields(info) == ["content"]
    reply = content_pb2.MessageContent(
        interactive_reply=content_pb2.InteractiveReplyContent(id="x")
    )
    with pytest.raises(InvalidArgument) as info:
        validate_content(reply)
    assert fields(info) == ["content.interactive_reply"]


def test_every_problem_is_reported_with_its_path() -> None:
    content = content_pb2.MessageContent(
        interactive=content_pb2.InteractiveContent(
            body="",
            buttons=content_pb2.ReplyButtons(
                buttons=[
                    content_pb2.Button(id="a", title="A title that is much too long"),
                    content_pb2.Button(id="a", title="Dup"),
                ]
            ),
        )
    )
    with pytest.raises(InvalidArgument) as info:
        validate_content(content)
    assert fields(info) == [
        "content.interactive.body",
        "content.interactive.buttons.buttons[1].id",
        "content.interactive.buttons.buttons[0].title",
    ]


def test_channel_limits_apply() -> None:
    caps = channel_pb2.ChannelCapabilities(
        max_buttons=2,
        media_limits=[
            channel_pb2.MediaLimit(
                type=content_pb2.MEDIA_TYPE_IMAGE, mime_types=["image/jpeg"], max_size_bytes=1000
            )
        ],
    )
    image = content_pb2.MessageContent(
        media=content_pb2.MediaContent(
            type=content_pb2.MEDIA_TYPE_IMAGE,
            url="https://cdn.example/x.gif",
            mime_type="image/gif",
            size_bytes=5000,
        )
    )
    with pytest.raises(InvalidArgument) as info:
        validate_content(image, caps)
    assert fields(info) == ["content.media.mime_type", "content.media.size_bytes"]
    buttons = content_pb2.MessageContent(
        interactive=content_pb2.InteractiveContent(
            body="b",
            buttons=content_pb2.ReplyButtons(
                buttons=[content_pb2.Button(id=str(i), title="t") for i in range(3)]
            ),
        )
    )
    with pytest.raises(InvalidArgument, match="1 to 2 buttons"):
        validate_content(buttons, caps)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            content_pb2.MessageContent(
                interactive=content_pb2.InteractiveContent(
                    body="Choose",
                    footer="Thanks",
                    list=content_pb2.ListAction(
                        button_text="Options",
                        sections=[
                            content_pb2.ListSection(
                                rows=[
                                    content_pb2.ListRow(id="1", title="Red", description="warm"),
                                    content_pb2.ListRow(id="2", title="Blue"),
                                ]
                            )
                        ],
                    ),
                )
            ),
            "Choose\n1. Red — warm\n2. Blue\nThanks\nReply with the number of your choice.",
        ),
        (
            content_pb2.MessageContent(
                interactive=content_pb2.InteractiveContent(
                    body="Track it",
                    cta_url=content_pb2.CtaUrlAction(
                        display_text="Track", url="https://t.example/1"
                    ),
                )
            ),
            "Track it\nTrack: https://t.example/1",
        ),
        (
            content_pb2.MessageContent(
                location=content_pb2.LocationContent(latitude=1.5, longitude=-2.25, name="Shop")
            ),
            "Shop\nhttps://maps.google.com/?q=1.500000,-2.250000",
        ),
        (
            content_pb2.MessageContent(
                rich_card=content_pb2.RichCardContent(
                    title="Sale",
                    description="50% off",
                    suggestions=[
                        content_pb2.Suggestion(
                            text="Shop now",
                            open_url=content_pb2.OpenUrlAction(url="https://s.example"),
                        )
                    ],
                )
            ),
            "Sale\n50% off\n1. Shop now: https://s.example",
        ),
        (
            content_pb2.MessageContent(
                media=content_pb2.MediaContent(
                    type=content_pb2.MEDIA_TYPE_IMAGE,
                    url="https://cdn.example/a.png",
                    caption="Look",
                )
            ),
            "Look\nhttps://cdn.example/a.png",
        ),
    ],
)
def test_degrade_rules_on_a_text_only_channel(
    content: content_pb2.MessageContent, expected: str
) -> None:
    adapted = adapt(content, TEXT_ONLY)
    assert adapted.degraded_from is not None
    assert adapted.content.text.body == expected


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (
            content_pb2.MessageContent(
                template=content_pb2.TemplateContent(name="t", language="en")
            ),
            "content.template",
        ),
        (
            content_pb2.MessageContent(
                reaction=content_pb2.ReactionContent(message="m", emoji="x")
            ),
            "content.reaction",
        ),
        (
            content_pb2.MessageContent(
                media=content_pb2.MediaContent(
                    type=content_pb2.MEDIA_TYPE_DOCUMENT, attachment="tenants/t/attachments/a"
                )
            ),
            "content.media",
        ),
    ],
)
def test_no_fallback_is_an_invalid_argument_naming_the_kind(
    content: content_pb2.MessageContent, field: str
) -> None:
    with pytest.raises(InvalidArgument) as info:
        adapt(content, TEXT_ONLY)
    assert fields(info) == [field]


def test_voice_becomes_audio_where_voice_notes_are_not_supported() -> None:
    caps = channel_pb2.ChannelCapabilities(content_kinds=[K.CONTENT_KIND_AUDIO])
    voice = content_pb2.MessageContent(
        media=content_pb2.MediaContent(type=content_pb2.MEDIA_TYPE_VOICE, provider_media_id="m1")
    )
    adapted = adapt(voice, caps)
    assert adapted.content.media.type == content_pb2.MEDIA_TYPE_AUDIO
    assert adapted.degraded_from == "VOICE"


def test_supported_content_is_sent_as_it_is() -> None:
    text = content_pb2.MessageContent(text=content_pb2.TextContent(body="hi"))
    assert adapt(text, TEXT_ONLY).degraded_from is None
