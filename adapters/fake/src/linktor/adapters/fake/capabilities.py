"""What the fake adapter declares: a channel type and content kinds chosen by environment.

- ``LINKTOR_FAKE_CHANNEL_TYPE``: the channel type served (``webchat`` by default; a name
  such as ``sms`` or ``CHANNEL_TYPE_SMS``, or a number);
- ``LINKTOR_FAKE_CONTENT_KINDS``: comma-separated kinds (``text,image``); default all.

Capabilities must not depend on a channel's configuration, hence the environment.
"""

from __future__ import annotations

from collections.abc import Mapping

from google.protobuf import duration_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import SENDABLE_KINDS
from linktor.adapters.fake.knobs import KNOB_NAMES, Knobs
from linktor.v1 import channel_pb2, common_pb2, content_pb2

ADAPTER_NAME = "linktor-fake"
ADAPTER_VERSION = "0.1.0"
MIB = 1024 * 1024


def _enum_value(raw: str, names: Mapping[str, int], prefix: str, what: str) -> int:
    text = raw.strip()
    if text.isdigit():
        if int(text) not in names.values():
            raise SystemExit(f"{what}: unknown value {text}")
        return int(text)
    key = text.upper()
    value = names.get(key if key.startswith(prefix) else prefix + key)
    if value is None or value == 0:
        known = ", ".join(n.removeprefix(prefix).lower() for n, v in names.items() if v)
        raise SystemExit(f"{what}: unknown value {raw!r}; known: {known}")
    return value


def channel_type(env: Mapping[str, str]) -> int:
    raw = env.get("LINKTOR_FAKE_CHANNEL_TYPE", "webchat")
    return _enum_value(
        raw, dict(common_pb2.ChannelType.items()), "CHANNEL_TYPE_", "LINKTOR_FAKE_CHANNEL_TYPE"
    )


def content_kinds(env: Mapping[str, str]) -> list[int]:
    raw = env.get("LINKTOR_FAKE_CONTENT_KINDS", "").strip()
    if not raw:
        return list(SENDABLE_KINDS)
    names = dict(channel_pb2.ContentKind.items())
    return [
        _enum_value(item, names, "CONTENT_KIND_", "LINKTOR_FAKE_CONTENT_KINDS")
        for item in raw.split(",")
        if item.strip()
    ]


def _media_limit(
    media_type: content_pb2.MediaType.ValueType, mime_types: list[str], megabytes: int
) -> channel_pb2.MediaLimit:
    return channel_pb2.MediaLimit(
        type=media_type, mime_types=mime_types, max_size_bytes=megabytes * MIB
    )


def _config_fields() -> list[adapter_pb2.ConfigField]:
    defaults = Knobs()
    knobs = [
        adapter_pb2.ConfigField(
            key=name,
            description=f"fake provider behaviour (default from LINKTOR_FAKE_{name.upper()})",
            default_value=str(getattr(defaults, name)).lower(),
        )
        for name in KNOB_NAMES
    ]
    return [
        *knobs,
        adapter_pb2.ConfigField(
            key="webhook_secret",
            secret=True,
            required=True,
            description="HMAC-SHA256 key of the X-Fake-Signature webhook header",
        ),
        adapter_pb2.ConfigField(
            key="verify_token", secret=True, description="token of the GET verification handshake"
        ),
    ]


def declared_capabilities(env: Mapping[str, str]) -> adapter_pb2.GetCapabilitiesResponse:
    kinds = content_kinds(env)
    return adapter_pb2.GetCapabilitiesResponse(
        channel_type=channel_type(env),  # type: ignore[arg-type]
        adapter_name=ADAPTER_NAME,
        adapter_version=ADAPTER_VERSION,
        capabilities=channel_pb2.ChannelCapabilities(
            content_kinds=kinds,  # type: ignore[arg-type]
            max_text_length=4096,
            max_caption_length=1024,
            media_limits=[
                _media_limit(
                    content_pb2.MEDIA_TYPE_IMAGE, ["image/jpeg", "image/png", "image/webp"], 5
                ),
                _media_limit(content_pb2.MEDIA_TYPE_VIDEO, ["video/mp4"], 16),
                _media_limit(content_pb2.MEDIA_TYPE_AUDIO, ["audio/mpeg", "audio/ogg"], 16),
                _media_limit(content_pb2.MEDIA_TYPE_DOCUMENT, ["application/pdf"], 100),
            ],
            max_buttons=3,
            max_list_rows=10,
            max_quick_replies=13,
            max_carousel_cards=10,
            supports_reply_to=True,
            supports_read_receipts=True,
            supports_typing=True,
            reports_delivery=True,
            reports_read=True,
            reply_window=duration_pb2.Duration(),
            supports_templates=channel_pb2.CONTENT_KIND_TEMPLATE in kinds,
        ),
        config_fields=_config_fields(),
    )
