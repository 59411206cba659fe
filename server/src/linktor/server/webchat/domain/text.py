"""Cleaning what visitors type. Texts and names are stored as plain text (never HTML): every
consumer renders them as text (the widget with textContent, the admin panel through React).
What is removed here is what no chat message needs and what confuses displays: control
characters (except newlines and tabs), bidi overrides that disguise text, lone surrogates."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(raw: str) -> str:
    """NFC, no control or bidi-override characters, CRLF -> LF, trimmed."""
    text = raw.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text).strip()


def clean_name(raw: str, limit: int = 80) -> str:
    """A display name: one line, at most ``limit`` characters."""
    return " ".join(clean_text(raw).split())[:limit]
