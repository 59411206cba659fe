"""A web chat channel's widget settings, read from its normalized configuration.

The adapter (adapters/webchat, ``config.py``) validates the configuration and fills in its
defaults when the channel is created; this reader is defensive anyway (a value out of range
falls back to the default, never past the hard ceilings) because the configuration is data
from the database, not a promise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_POSITIONS = ("bottom-right", "bottom-left")
_DEFAULT_MIME_TYPES = (
    "application/pdf",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/plain",
)


def _int(raw: Any, default: int, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
        return default
    return int(raw)


def _text(raw: Any, default: str, limit: int) -> str:
    return raw.strip()[:limit] if isinstance(raw, str) else default


@dataclass(frozen=True)
class WidgetSettings:
    title: str = "Chat with us"
    greeting: str = ""
    color: str = "#2563eb"
    position: str = "bottom-right"
    max_upload_bytes: int = 10 * MIB
    allowed_mime_types: tuple[str, ...] = _DEFAULT_MIME_TYPES
    max_message_length: int = 4096
    messages_per_minute: int = 30
    session_ttl_days: int = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WidgetSettings:
        d = cls()
        color = config.get("color")
        position = config.get("position")
        mimes = config.get("allowed_mime_types")
        if isinstance(mimes, str):
            mimes = mimes.split(",")
        return cls(
            title=_text(config.get("title"), d.title, 60) or d.title,
            greeting=_text(config.get("greeting"), d.greeting, 500),
            color=color if isinstance(color, str) and _COLOR.fullmatch(color) else d.color,
            position=position if position in _POSITIONS else d.position,
            max_upload_bytes=_int(config.get("max_upload_bytes"), d.max_upload_bytes, 1, 25 * MIB),
            allowed_mime_types=(
                tuple(
                    sorted({m.strip().lower() for m in mimes if isinstance(m, str) and m.strip()})
                )
                if isinstance(mimes, list)
                else d.allowed_mime_types
            ),
            max_message_length=_int(
                config.get("max_message_length"), d.max_message_length, 1, 4096
            ),
            messages_per_minute=_int(
                config.get("messages_per_minute"), d.messages_per_minute, 1, 600
            ),
            session_ttl_days=_int(config.get("session_ttl_days"), d.session_ttl_days, 1, 365),
        )

    def public(self) -> dict[str, Any]:
        """What the widget may know (served to any page that embeds it)."""
        return {
            "title": self.title,
            "greeting": self.greeting,
            "color": self.color,
            "position": self.position,
            "max_upload_bytes": self.max_upload_bytes,
            "allowed_mime_types": list(self.allowed_mime_types),
            "max_message_length": self.max_message_length,
        }
