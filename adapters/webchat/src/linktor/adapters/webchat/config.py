"""A Web Chat channel's settings: how the widget looks and what visitors may send.

Every key is optional and public (the widget fetches the presentational ones); there are
no secrets. The core's visitor endpoint reads the normalized configuration this module
produces, so the defaults below are the ones visitors get.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import ConfigCheck

MIB = 1024 * 1024
#: Hard ceilings: a channel may lower them, never raise them.
MAX_UPLOAD_BYTES = 25 * MIB
MAX_TEXT_LENGTH = 4096
POSITIONS = ("bottom-right", "bottom-left")
DEFAULT_MIME_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
)
# type/subtype as RFC 6838 allows (no parameters, no wildcards: the allow-list is explicit).
MIME_PATTERN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
COLOR_PATTERN = r"#[0-9a-fA-F]{6}"


@dataclass(frozen=True)
class ConfigKey:
    key: str
    description: str
    default: str


CONFIG_KEYS = (
    ConfigKey("title", "Header of the chat window (at most 60 characters).", "Chat with us"),
    ConfigKey("greeting", "First message shown to a visitor (at most 500 characters).", ""),
    ConfigKey("color", "Accent colour, #RRGGBB.", "#2563eb"),
    ConfigKey("position", "Where the launcher sits: bottom-right or bottom-left.", "bottom-right"),
    ConfigKey(
        "max_upload_bytes",
        f"Largest attachment a visitor may upload (at most {MAX_UPLOAD_BYTES}).",
        str(10 * MIB),
    ),
    ConfigKey(
        "allowed_mime_types",
        "Attachment types visitors may upload: a list, or a comma-separated string.",
        ",".join(DEFAULT_MIME_TYPES),
    ),
    ConfigKey(
        "max_message_length",
        f"Longest visitor message in characters (at most {MAX_TEXT_LENGTH}).",
        str(MAX_TEXT_LENGTH),
    ),
    ConfigKey("messages_per_minute", "Messages one visitor may send per minute (1-600).", "30"),
    ConfigKey(
        "session_ttl_days", "How long a visitor's session lasts without a visit (1-365).", "30"
    ),
)
KNOWN_KEYS = tuple(k.key for k in CONFIG_KEYS)


def _mime_types(check: ConfigCheck) -> None:
    raw = check.raw("allowed_mime_types")
    path = "config.allowed_mime_types"
    if raw is None:
        check.normalized["allowed_mime_types"] = list(DEFAULT_MIME_TYPES)
        return
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        check.add(path, "must be a list of MIME types or a comma-separated string")
        return
    types = [i.strip().lower() for i in items if i.strip()]
    if len(types) > 50:
        check.add(path, "at most 50 MIME types")
        return
    bad = [t for t in types if not re.fullmatch(MIME_PATTERN, t)]
    if bad:
        check.add(path, f"not a MIME type (type/subtype): {bad[0][:80]!r}")
        return
    check.normalized["allowed_mime_types"] = sorted(set(types))


def check_config(channel: adapter_pb2.ChannelConfig) -> adapter_pb2.ValidateConfigResponse:
    """Violations, or the configuration with every default filled in."""
    check = ConfigCheck(channel)
    check.reject_unknown(KNOWN_KEYS)
    defaults = {k.key: k.default for k in CONFIG_KEYS}
    check.string("title", default=defaults["title"], max_length=60)
    check.string("greeting", default=defaults["greeting"], max_length=500)
    check.string("color", default=defaults["color"], pattern=COLOR_PATTERN)
    check.string("position", default=defaults["position"], choices=POSITIONS)
    check.number(
        "max_upload_bytes",
        default=float(defaults["max_upload_bytes"]),
        minimum=1,
        maximum=MAX_UPLOAD_BYTES,
        integer=True,
    )
    _mime_types(check)
    check.number(
        "max_message_length",
        default=float(defaults["max_message_length"]),
        minimum=1,
        maximum=MAX_TEXT_LENGTH,
        integer=True,
    )
    check.number("messages_per_minute", default=30.0, minimum=1, maximum=600, integer=True)
    check.number("session_ttl_days", default=30.0, minimum=1, maximum=365, integer=True)
    for key in (
        "max_upload_bytes",
        "max_message_length",
        "messages_per_minute",
        "session_ttl_days",
    ):
        value = check.normalized.get(key)
        if isinstance(value, float):
            check.normalized[key] = int(value)
    return check.response()
