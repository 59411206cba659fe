"""The visitor socket's protocol: frames a visitor may send, parsed and checked.

Every frame is one JSON object with a ``type``. Anything else (not JSON, not an object, an
unknown type, a field of the wrong type or size) is a :class:`FrameError`, answered with an
``error`` frame; the socket stays open unless the visitor keeps sending garbage. The full
schema, both directions, is in docs/channels/webchat.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from linktor.server.webchat.domain.text import clean_text

_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MESSAGE_NAME = re.compile(
    r"tenants/[a-z0-9-]{1,64}/conversations/[a-z0-9-]{1,64}/messages/[a-z0-9-]{1,64}"
)
_ATTACHMENT_ID = re.compile(r"[a-z0-9]{26}")
_OPTION_KINDS = ("button", "quick_reply")


class FrameError(ValueError):
    """A frame the protocol does not allow; ``code`` goes into the error frame."""

    def __init__(self, code: str, message: str, client_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


@dataclass(frozen=True)
class SendText:
    client_id: str
    text: str
    attachment_id: str = ""


@dataclass(frozen=True)
class ChooseOption:
    """A click on a reply button or quick reply of an agent's message."""

    client_id: str
    kind: str
    option_id: str
    title: str


@dataclass(frozen=True)
class Typing:
    typing: bool


@dataclass(frozen=True)
class Receipt:
    """The visitor's browser showed (``read=False``) or the visitor saw (``read=True``) an
    agent's message, and every earlier one."""

    message: str
    read: bool


@dataclass(frozen=True)
class Ping:
    pass


VisitorFrame = SendText | ChooseOption | Typing | Receipt | Ping


def _string(frame: dict[str, Any], key: str, *, required: bool, limit: int) -> str:
    value = frame.get(key, "")
    if not isinstance(value, str):
        raise FrameError("INVALID_FRAME", f"`{key}` must be a string")
    if required and not value:
        raise FrameError("INVALID_FRAME", f"`{key}` is required")
    if len(value) > limit:
        raise FrameError("TOO_LONG", f"`{key}` is longer than {limit} characters")
    return value


def _client_id(frame: dict[str, Any]) -> str:
    value = frame.get("id")
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        raise FrameError("INVALID_FRAME", "`id` must be 1-64 letters, digits, _ or -")
    return value


def _message(frame: dict[str, Any], max_length: int) -> VisitorFrame:
    client_id = _client_id(frame)
    try:
        raw = _string(frame, "text", required=False, limit=max_length)
        attachment = _string(frame, "attachment", required=False, limit=26)
    except FrameError as exc:
        raise FrameError(exc.code, exc.message, client_id) from None
    if attachment and not _ATTACHMENT_ID.fullmatch(attachment):
        raise FrameError("INVALID_FRAME", "`attachment` is not an attachment id", client_id)
    text = clean_text(raw)
    if not text and not attachment:
        raise FrameError("INVALID_FRAME", "a message needs `text` or `attachment`", client_id)
    return SendText(client_id, text, attachment)


def _option(frame: dict[str, Any]) -> VisitorFrame:
    client_id = _client_id(frame)
    kind = frame.get("kind")
    if kind not in _OPTION_KINDS:
        raise FrameError("INVALID_FRAME", "`kind` must be button or quick_reply", client_id)
    option_id = _string(frame, "option", required=True, limit=256)
    title = clean_text(_string(frame, "title", required=True, limit=40))
    return ChooseOption(client_id, str(kind), option_id, title)


def _receipt(frame: dict[str, Any], read: bool) -> VisitorFrame:
    name = _string(frame, "message", required=True, limit=256)
    if not _MESSAGE_NAME.fullmatch(name):
        raise FrameError("INVALID_FRAME", "`message` must be a message name")
    return Receipt(name, read)


def parse_frame(data: str, *, max_message_length: int) -> VisitorFrame:
    """One visitor frame; FrameError when it breaks the protocol."""
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        raise FrameError("INVALID_JSON", "frames are JSON objects") from None
    if not isinstance(frame, dict):
        raise FrameError("INVALID_JSON", "frames are JSON objects")
    kind = frame.get("type")
    if kind == "message":
        return _message(frame, max_message_length)
    if kind == "option":
        return _option(frame)
    if kind == "typing":
        if not isinstance(frame.get("typing"), bool):
            raise FrameError("INVALID_FRAME", "`typing` must be true or false")
        return Typing(bool(frame["typing"]))
    if kind in ("received", "read"):
        return _receipt(frame, kind == "read")
    if kind == "ping":
        return Ping()
    raise FrameError("UNKNOWN_TYPE", "unknown frame type")


@dataclass(frozen=True)
class Hello:
    """The first frame of every socket: the session token (never in the URL, where proxies
    and access logs would keep it) and the last ``seq`` the widget saw (0: from now)."""

    token: str
    after: int


def parse_hello(data: str) -> Hello:
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        raise FrameError("INVALID_JSON", "frames are JSON objects") from None
    if not isinstance(frame, dict) or frame.get("type") != "hello":
        raise FrameError("UNAUTHENTICATED", "the first frame must be hello")
    token, after = frame.get("token"), frame.get("after", 0)
    if not isinstance(token, str) or not token or len(token) > 1024:
        raise FrameError("UNAUTHENTICATED", "`token` must be the session token")
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < 2**63:
        raise FrameError("INVALID_FRAME", "`after` must be a sequence number")
    return Hello(token, after)


def encode(frame: dict[str, Any]) -> str:
    """A server frame as sent: compact JSON, non-ASCII escaped (safe in any page encoding)."""
    return json.dumps(frame, separators=(",", ":"))
