"""Calls from the channels context to a channel's adapter, and what they carry.

The adapter is reached through the AdapterProvider port (the plugin host). A gRPC error from
an adapter means the adapter itself failed (crashed, timed out): it becomes Unavailable, so
the caller may retry; problems of the configuration come back as data (violations, ok=false).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import grpc
from google.protobuf import struct_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.server.channels.domain.channel import Channel
from linktor.server.logs import get_logger
from linktor.server.plugins.port import AdapterHandle, AdapterProvider
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import FieldViolation, InvalidArgument, Unavailable
from linktor.v1 import common_pb2

log = get_logger(__name__)

T = TypeVar("T")

VALIDATE_TIMEOUT = 15.0
CHECK_TIMEOUT = 30.0
TEMPLATES_TIMEOUT = 60.0


def channel_type_value(channel_type: ChannelType) -> int:
    """linktor.v1.ChannelType number of a domain channel type."""
    return int(common_pb2.ChannelType.Value(f"CHANNEL_TYPE_{channel_type.value}"))


def to_struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def adapter_config(
    channel: Channel, *, secrets: Mapping[str, str], webhook_url: str
) -> adapter_pb2.ChannelConfig:
    """What an adapter call carries about the channel."""
    return adapter_pb2.ChannelConfig(
        channel=channel.name,
        type=channel_type_value(channel.type),  # type: ignore[arg-type]
        config=to_struct(channel.config),
        secrets=dict(secrets),
        webhook_url=webhook_url,
    )


async def acquire(
    adapters: AdapterProvider, channel_type: ChannelType, address: str
) -> AdapterHandle:
    """The adapter serving channels of ``channel_type`` (the remote one at ``address``)."""
    return await adapters.acquire(channel_type_value(channel_type), address=address)


async def _call(
    handle: AdapterHandle, config: adapter_pb2.ChannelConfig, what: str, call: Awaitable[T]
) -> T:
    """``call`` (an RPC with a deadline); a failure of the adapter becomes Unavailable."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        adapter = handle.capabilities.adapter_name or f"channel type {config.type}"
        log.warning("adapter call failed", call=what, adapter=adapter, code=exc.code().name)
        raise Unavailable(
            f"the {adapter} adapter failed during {what} ({exc.code().name}); try again later",
            reason="CHANNEL_UNAVAILABLE",
            metadata={"adapter": adapter},
        ) from None


async def validate_config(
    handle: AdapterHandle, config: adapter_pb2.ChannelConfig, field_prefix: str = "channel."
) -> dict[str, Any] | None:
    """The configuration as the adapter wants it stored (None: store it as given);
    InvalidArgument with the adapter's violations, their paths under ``field_prefix``."""
    request = adapter_pb2.ValidateConfigRequest(channel=config)
    reply = await _call(
        handle,
        config,
        "ValidateConfig",
        handle.stub.ValidateConfig(request, timeout=VALIDATE_TIMEOUT),
    )
    if reply.violations:
        violations = [
            FieldViolation(
                f"{field_prefix}{v.field}" if v.field else field_prefix.rstrip("."), v.description
            )
            for v in reply.violations
        ]
        summary = "; ".join(f"{v.field}: {v.description}" for v in violations[:5])
        label = handle.capabilities.adapter_name or "channel's"
        raise InvalidArgument(
            f"the {label} adapter refused the configuration: {summary}", violations
        )
    if reply.HasField("normalized_config"):
        return from_struct(reply.normalized_config)
    return None


async def check_channel(
    handle: AdapterHandle, config: adapter_pb2.ChannelConfig
) -> adapter_pb2.CheckChannelResponse:
    request = adapter_pb2.CheckChannelRequest(channel=config)
    return await _call(
        handle, config, "CheckChannel", handle.stub.CheckChannel(request, timeout=CHECK_TIMEOUT)
    )


async def list_templates(
    handle: AdapterHandle, config: adapter_pb2.ChannelConfig
) -> adapter_pb2.ListTemplatesResponse:
    request = adapter_pb2.ListTemplatesRequest(channel=config)
    return await _call(
        handle,
        config,
        "ListTemplates",
        handle.stub.ListTemplates(request, timeout=TEMPLATES_TIMEOUT),
    )


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as plain JSON values (whole numbers stay integers)."""
    return {key: _plain_value(value) for key, value in struct.items()}


def _plain_value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, struct_pb2.Struct):
        return from_struct(value)
    if isinstance(value, struct_pb2.ListValue):
        return [_plain_value(v) for v in value]
    return value
