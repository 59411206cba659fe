"""Message content as the widget renders it: a small JSON shape, text only (never HTML).

Attachment media get a download path on the visitor endpoint; URL media keep their URL only
when it is http(s) (a ``javascript:`` URL is dropped, whoever sent it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from linktor.v1 import content_pb2

_MEDIA_TYPES = {
    content_pb2.MEDIA_TYPE_IMAGE: "image",
    content_pb2.MEDIA_TYPE_VIDEO: "video",
    content_pb2.MEDIA_TYPE_AUDIO: "audio",
    content_pb2.MEDIA_TYPE_VOICE: "audio",
    content_pb2.MEDIA_TYPE_DOCUMENT: "document",
    content_pb2.MEDIA_TYPE_STICKER: "image",
}

# Attachment name (tenants/t/attachments/id) -> the path the visitor downloads it from.
AttachmentLink = Callable[[str], str]


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    return url if parts.scheme in ("https", "http") and parts.hostname else ""


def _media(media: content_pb2.MediaContent, link: AttachmentLink) -> dict[str, Any]:
    source = media.WhichOneof("source")
    if source == "url":
        url = _safe_url(media.url)
    elif source == "attachment":
        url = link(media.attachment)
    else:
        url = ""
    return {
        "type": _MEDIA_TYPES.get(media.type, "document"),
        "url": url,
        "mime_type": media.mime_type,
        "filename": media.filename,
        "size_bytes": media.size_bytes,
        "caption": media.caption,
    }


def content_json(content: content_pb2.MessageContent, link: AttachmentLink) -> dict[str, Any]:
    kind = content.WhichOneof("kind")
    if kind == "text":
        return {"text": content.text.body}
    if kind == "media":
        return {"media": _media(content.media, link)}
    if kind == "interactive":
        interactive = content.interactive
        out: dict[str, Any] = {"text": interactive.body}
        if interactive.footer:
            out["footer"] = interactive.footer
        action = interactive.WhichOneof("action")
        if action == "buttons":
            out["buttons"] = [{"id": b.id, "title": b.title} for b in interactive.buttons.buttons]
        elif action == "quick_replies":
            out["quick_replies"] = [
                {"id": r.id, "title": r.title} for r in interactive.quick_replies.replies
            ]
        elif action == "cta_url":
            out["link"] = {
                "title": interactive.cta_url.display_text,
                "url": _safe_url(interactive.cta_url.url),
            }
        return out
    if kind == "interactive_reply":
        return {"text": content.interactive_reply.title}
    if kind == "reaction":
        return {"reaction": content.reaction.emoji}
    # Anything else degrades to a note rather than disappearing.
    return {"text": "", "unsupported": kind or "empty"}
