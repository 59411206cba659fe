"""Proto <-> domain for ChannelService, including update masks. Secrets go one way only:
from requests into the use cases; nothing here ever puts a secret value into a response."""

from __future__ import annotations

from google.protobuf import field_mask_pb2

from linktor.server.channels.app.adapter_calls import from_struct
from linktor.server.channels.app.inputs import ChannelDraft, ChannelPatch
from linktor.server.channels.domain.channel import Channel, ChannelState, RateLimit
from linktor.server.channels.domain.template import ComponentKind, MessageTemplate
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.proto_time import timestamp
from linktor.v1 import channel_pb2, common_pb2, content_pb2

_STATES = {
    ChannelState.ACTIVE: channel_pb2.CHANNEL_STATE_ACTIVE,
    ChannelState.DISABLED: channel_pb2.CHANNEL_STATE_DISABLED,
    ChannelState.DEGRADED: channel_pb2.CHANNEL_STATE_DEGRADED,
    ChannelState.ERROR: channel_pb2.CHANNEL_STATE_ERROR,
}
_COMPONENTS = {
    ComponentKind.HEADER: content_pb2.TEMPLATE_COMPONENT_TYPE_HEADER,
    ComponentKind.BODY: content_pb2.TEMPLATE_COMPONENT_TYPE_BODY,
    ComponentKind.BUTTON: content_pb2.TEMPLATE_COMPONENT_TYPE_BUTTON,
    ComponentKind.FOOTER: content_pb2.TEMPLATE_COMPONENT_TYPE_FOOTER,
}
_PREFIX = "CHANNEL_TYPE_"

#: Fields UpdateChannel changes, and what `*` stands for.
UPDATABLE = (
    "display_name",
    "config",
    "secrets",
    "rate_limit",
    "adapter_address",
    "allowed_origins",
)
_NOT_UPDATABLE = {
    "name": "is the identifier",
    "type": "is immutable: create another channel",
    "state": "is output only: use EnableChannel or DisableChannel",
    "state_reason": "is output only",
    "secret_keys": "is output only: update `secrets`",
    "webhook_url": "is output only",
    "capabilities": "is output only",
    "create_time": "is output only",
    "update_time": "is output only",
    "etag": "is not a field to update: send it in channel.etag",
}


def channel_type_from_proto(value: int, field: str) -> ChannelType | None:
    if value == common_pb2.CHANNEL_TYPE_UNSPECIFIED:
        return None
    try:
        return ChannelType(common_pb2.ChannelType.Name(value).removeprefix(_PREFIX))  # type: ignore[arg-type]
    except ValueError:
        raise InvalidArgument.for_field(field, f"unknown channel type {value}") from None


def channel_to_proto(
    channel: Channel, webhook_url: str, capabilities: channel_pb2.ChannelCapabilities | None
) -> channel_pb2.Channel:
    message = channel_pb2.Channel(
        name=channel.name,
        display_name=channel.display_name,
        type=common_pb2.ChannelType.Value(_PREFIX + channel.type.value),
        state=_STATES[channel.state],
        state_reason=channel.state_reason,
        secret_keys=sorted(channel.secret_keys),
        webhook_url=webhook_url,
        rate_limit=common_pb2.RateLimit(
            per_second=channel.rate_limit.per_second, burst=channel.rate_limit.burst
        ),
        adapter_address=channel.adapter_address,
        allowed_origins=list(channel.allowed_origins),
        capabilities=capabilities,
        create_time=timestamp(channel.create_time),
        update_time=timestamp(channel.update_time),
        etag=channel.etag,
    )
    message.config.update(dict(channel.config))
    return message


def draft_from_proto(channel: channel_pb2.Channel) -> ChannelDraft:
    return ChannelDraft(
        display_name=channel.display_name,
        type=channel_type_from_proto(channel.type, "channel.type"),
        config=from_struct(channel.config),
        secrets=dict(channel.secrets),
        rate_limit=RateLimit(channel.rate_limit.per_second, channel.rate_limit.burst),
        adapter_address=channel.adapter_address,
        allowed_origins=tuple(channel.allowed_origins),
    )


def _mask_paths(mask: field_mask_pb2.FieldMask, channel: channel_pb2.Channel) -> set[str]:
    """The paths to update: the mask's (`*` = every updatable field), or without a mask the
    fields the request sets (AIP-134)."""
    if not mask.paths:
        present = {
            "display_name": bool(channel.display_name),
            "config": channel.HasField("config"),
            "secrets": bool(channel.secrets),
            "rate_limit": channel.HasField("rate_limit"),
            "adapter_address": bool(channel.adapter_address),
            "allowed_origins": bool(channel.allowed_origins),
        }
        return {path for path, given in present.items() if given}
    paths: set[str] = set()
    for path in mask.paths:
        if path == "*":
            paths.update(UPDATABLE)
            continue
        head, _, rest = path.partition(".")
        if head in _NOT_UPDATABLE:
            raise InvalidArgument.for_field("update_mask", f"channel.{head} {_NOT_UPDATABLE[head]}")
        valid = head in UPDATABLE and (
            not rest
            or head in ("config", "secrets")
            or (head == "rate_limit" and rest in ("per_second", "burst"))
        )
        if not valid:
            raise InvalidArgument.for_field(
                "update_mask",
                f"channel.{path} cannot be updated; use {', '.join(UPDATABLE)}, config.KEY,"
                " secrets.KEY, rate_limit.per_second, rate_limit.burst or *",
            )
        paths.add(path)
    return paths


def patch_from_proto(channel: channel_pb2.Channel, mask: field_mask_pb2.FieldMask) -> ChannelPatch:
    paths = _mask_paths(mask, channel)
    config = from_struct(channel.config)
    entries = {p[7:]: config[p[7:]] for p in paths if p.startswith("config.") and p[7:] in config}
    removals = frozenset(p[7:] for p in paths if p.startswith("config.") and p[7:] not in config)
    secrets = dict(channel.secrets) if "secrets" in paths else {}
    for path in paths:
        if path.startswith("secrets."):
            key = path[8:]
            secrets[key] = channel.secrets.get(key, "")  # absent: delete the key
    whole_rate = "rate_limit" in paths
    return ChannelPatch(
        display_name=channel.display_name if "display_name" in paths else None,
        config=config if "config" in paths else None,
        config_entries=entries,
        config_removals=removals,
        secrets=secrets,
        rate_per_second=(
            channel.rate_limit.per_second
            if whole_rate or "rate_limit.per_second" in paths
            else None
        ),
        rate_burst=(
            channel.rate_limit.burst if whole_rate or "rate_limit.burst" in paths else None
        ),
        adapter_address=channel.adapter_address if "adapter_address" in paths else None,
        allowed_origins=tuple(channel.allowed_origins) if "allowed_origins" in paths else None,
        etag=channel.etag,
    )


def template_to_proto(template: MessageTemplate) -> channel_pb2.MessageTemplate:
    return channel_pb2.MessageTemplate(
        name=template.name,
        template_name=template.template_name,
        language=template.language,
        category=template.category,
        status=template.status,
        provider_template_id=template.provider_template_id,
        components=[
            channel_pb2.MessageTemplateComponent(
                type=_COMPONENTS[c.kind],
                format=c.format,
                text=c.text,
                parameter_count=c.parameter_count,
                button_sub_type=c.button_sub_type,
                button_text=c.button_text,
                parameter_names=list(c.parameter_names),
            )
            for c in template.components
        ],
        sync_time=timestamp(template.sync_time),
    )
