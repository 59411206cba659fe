"""Builders for message content: ``content.text("hi")`` instead of nested constructors.

Each returns a linktor.v1.MessageContent for ``client.messages.send(content=...)``; anything
not covered here can be written as a dict in proto3 JSON form (:func:`from_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linktor.sdk._spec import enum_number, message_from_dict
from linktor.v1 import content_pb2


def text(body: str, *, preview_url: bool = False) -> content_pb2.MessageContent:
    """Plain text."""
    return content_pb2.MessageContent(
        text=content_pb2.TextContent(body=body, preview_url=preview_url)
    )


def media(
    url: str = "",
    *,
    type: str | int = "image",
    attachment: str = "",
    caption: str = "",
    filename: str = "",
    mime_type: str = "",
) -> content_pb2.MessageContent:
    """An image, video, audio, voice note, document or sticker, by public URL or attachment."""
    kind = enum_number(content_pb2.MediaType.DESCRIPTOR, type)
    item = content_pb2.MediaContent(
        type=kind,  # type: ignore[arg-type]
        caption=caption,
        filename=filename,
        mime_type=mime_type,
    )
    if attachment:
        item.attachment = attachment
    else:
        item.url = url
    return content_pb2.MessageContent(media=item)


def template(
    name: str, language: str, *, body: Sequence[str] = (), header: Sequence[str] = ()
) -> content_pb2.MessageContent:
    """An approved template, with text parameters for its body (and header)."""
    components = []
    for kind, values in (
        (content_pb2.TEMPLATE_COMPONENT_TYPE_HEADER, header),
        (content_pb2.TEMPLATE_COMPONENT_TYPE_BODY, body),
    ):
        if values:
            components.append(
                content_pb2.TemplateComponent(
                    type=kind,
                    parameters=[content_pb2.TemplateParameter(text=v) for v in values],
                )
            )
    return content_pb2.MessageContent(
        template=content_pb2.TemplateContent(name=name, language=language, components=components)
    )


def buttons(
    body: str, choices: Mapping[str, str], *, header: str = "", footer: str = ""
) -> content_pb2.MessageContent:
    """Reply buttons: ``choices`` maps each button id to its title."""
    interactive = content_pb2.InteractiveContent(
        body=body,
        footer=footer,
        buttons=content_pb2.ReplyButtons(
            buttons=[content_pb2.Button(id=k, title=v) for k, v in choices.items()]
        ),
    )
    if header:
        interactive.header.text = header
    return content_pb2.MessageContent(interactive=interactive)


def location(
    latitude: float, longitude: float, *, name: str = "", address: str = ""
) -> content_pb2.MessageContent:
    """A point on the map."""
    return content_pb2.MessageContent(
        location=content_pb2.LocationContent(
            latitude=latitude, longitude=longitude, name=name, address=address
        )
    )


def from_dict(value: Mapping[str, Any]) -> content_pb2.MessageContent:
    """Any content from proto3 JSON: ``{"interactive": {"body": "...", "buttons": ...}}``."""
    return message_from_dict(content_pb2.MessageContent, value)
