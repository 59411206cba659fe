"""Checks of outbound content against what the widget can render (beyond the content kind,
which the kit checks): what is wrong is refused before the core marks it SENT."""

from __future__ import annotations

from urllib.parse import urlsplit

from linktor.adapters.webchat.capabilities import (
    MAX_BUTTONS,
    MAX_CAPTION_LENGTH,
    MAX_QUICK_REPLIES,
    MEDIA_LIMITS,
)
from linktor.adapters.webchat.config import MAX_TEXT_LENGTH
from linktor.v1 import content_pb2

_ATTACHMENT_PREFIX = "tenants/"


def _url_problem(url: str) -> str | None:
    # The visitor's browser loads it: only web URLs, never javascript: or data: URLs.
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "a media URL must be an absolute http(s) URL"
    return None


def _media_problem(media: content_pb2.MediaContent) -> str | None:
    source = media.WhichOneof("source")
    if source == "url":
        problem = _url_problem(media.url)
        if problem:
            return problem
    elif source == "attachment":
        if not media.attachment.startswith(_ATTACHMENT_PREFIX) or "/attachments/" not in (
            media.attachment
        ):
            return "an attachment must be named tenants/{tenant}/attachments/{id}"
    else:
        return "web chat media needs a url or an attachment (provider media ids do not exist)"
    mimes, megabytes = MEDIA_LIMITS[media.type]
    if media.mime_type and media.mime_type.lower() not in mimes:
        return f"{media.mime_type} is not one of {', '.join(mimes)}"
    if media.size_bytes > megabytes * 1024 * 1024:
        return f"media larger than {megabytes} MiB"
    if len(media.caption) > MAX_CAPTION_LENGTH:
        return f"caption longer than {MAX_CAPTION_LENGTH} characters"
    return None


def _interactive_problem(interactive: content_pb2.InteractiveContent) -> str | None:
    if not interactive.body.strip():
        return "interactive messages need a body"
    if len(interactive.body) > MAX_TEXT_LENGTH:
        return f"body longer than {MAX_TEXT_LENGTH} characters"
    action = interactive.WhichOneof("action")
    if action == "buttons":
        options = [(b.id, b.title) for b in interactive.buttons.buttons]
        limit = MAX_BUTTONS
    else:
        options = [(r.id, r.title) for r in interactive.quick_replies.replies]
        limit = MAX_QUICK_REPLIES
    if not 1 <= len(options) <= limit:
        return f"between 1 and {limit} options"
    ids = [option_id for option_id, _ in options]
    if len(set(ids)) != len(ids) or any(not i.strip() or len(i) > 256 for i in ids):
        return "option ids must be unique, non-empty and at most 256 characters"
    if any(not title.strip() or len(title) > 40 for _, title in options):
        return "option titles must be non-empty and at most 40 characters"
    return None


def content_problem(content: content_pb2.MessageContent) -> str | None:
    """Why the widget cannot show ``content``, or None."""
    kind = content.WhichOneof("kind")
    if kind == "text":
        if not content.text.body.strip():
            return "the text is empty"
        if len(content.text.body) > MAX_TEXT_LENGTH:
            return f"text longer than {MAX_TEXT_LENGTH} characters"
        return None
    if kind == "media":
        return _media_problem(content.media)
    if kind == "interactive":
        return _interactive_problem(content.interactive)
    return None
