"""linktor.v1.ChannelService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.protobuf import duration_pb2, empty_pb2

from linktor.server.channels.api.mapping import (
    channel_to_proto,
    channel_type_from_proto,
    draft_from_proto,
    patch_from_proto,
    template_to_proto,
)
from linktor.server.channels.domain.channel import Channel
from linktor.server.channels.module import ChannelServices
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.idempotency import fingerprint
from linktor.server.shared.principal import current_principal
from linktor.v1 import channel_pb2, channel_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def _channel_name(name: str, field: str = "name") -> tuple[str, str]:
    parts = names.CHANNEL.parse(name, field)
    return parts["tenant"], parts["channel"]


def request_fingerprint(request: channel_pb2.CreateChannelRequest) -> str:
    """What makes two CreateChannel calls "the same request" (AIP-155): everything but the
    request_id and the secret values (their keys count). Values are left out so that no
    hash of a secret is stored in the clear next to the idempotency key."""
    copy = channel_pb2.CreateChannelRequest()
    copy.CopyFrom(request)
    for key in copy.channel.secrets:
        copy.channel.secrets[key] = ""
    return fingerprint(copy)


class ChannelServicer(channel_pb2_grpc.ChannelServiceServicer):
    def __init__(self, channels: ChannelServices) -> None:
        self._admin = channels.admin
        self._templates = channels.templates

    async def _proto(self, channel: Channel) -> channel_pb2.Channel:
        return (await self._protos([channel]))[0]

    async def _protos(self, found: list[Channel]) -> list[channel_pb2.Channel]:
        # One capabilities lookup per adapter, in parallel: a page of channels whose adapter
        # is starting waits for it once, not once per channel.
        adapters = {(c.type, c.adapter_address): c for c in found}
        declared = dict(
            zip(
                adapters,
                await asyncio.gather(*(self._admin.capabilities(c) for c in adapters.values())),
                strict=True,
            )
        )
        protos = []
        for channel in found:
            caps = declared[(channel.type, channel.adapter_address)]
            protos.append(
                channel_to_proto(
                    channel, self._admin.webhook_url(channel), caps.capabilities if caps else None
                )
            )
        return protos

    async def CreateChannel(
        self, request: channel_pb2.CreateChannelRequest, context: Context
    ) -> channel_pb2.Channel:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        if not request.HasField("channel"):
            raise InvalidArgument.for_field("channel", "is required")
        channel = await self._admin.create(
            current_principal(),
            tenant_id,
            draft_from_proto(request.channel),
            request_id=request.request_id,
            request_hash=request_fingerprint(request) if request.request_id else "",
            validate_only=request.validate_only,
        )
        return await self._proto(channel)

    async def GetChannel(
        self, request: channel_pb2.GetChannelRequest, context: Context
    ) -> channel_pb2.Channel:
        tenant_id, channel_id = _channel_name(request.name)
        return await self._proto(await self._admin.get(current_principal(), tenant_id, channel_id))

    async def ListChannels(
        self, request: channel_pb2.ListChannelsRequest, context: Context
    ) -> channel_pb2.ListChannelsResponse:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        found, token = await self._admin.list(
            current_principal(),
            tenant_id,
            size=request.page_size,
            token=request.page_token,
            channel_type=channel_type_from_proto(request.type, "type"),
        )
        return channel_pb2.ListChannelsResponse(
            channels=await self._protos(found), next_page_token=token
        )

    async def UpdateChannel(
        self, request: channel_pb2.UpdateChannelRequest, context: Context
    ) -> channel_pb2.Channel:
        if not request.HasField("channel"):
            raise InvalidArgument.for_field("channel", "is required")
        tenant_id, channel_id = _channel_name(request.channel.name, "channel.name")
        patch = patch_from_proto(request.channel, request.update_mask)
        channel = await self._admin.update(current_principal(), tenant_id, channel_id, patch)
        return await self._proto(channel)

    async def DeleteChannel(
        self, request: channel_pb2.DeleteChannelRequest, context: Context
    ) -> empty_pb2.Empty:
        tenant_id, channel_id = _channel_name(request.name)
        await self._admin.delete(current_principal(), tenant_id, channel_id, request.etag)
        return empty_pb2.Empty()

    async def EnableChannel(
        self, request: channel_pb2.EnableChannelRequest, context: Context
    ) -> channel_pb2.Channel:
        tenant_id, channel_id = _channel_name(request.name)
        return await self._proto(
            await self._admin.enable(current_principal(), tenant_id, channel_id)
        )

    async def DisableChannel(
        self, request: channel_pb2.DisableChannelRequest, context: Context
    ) -> channel_pb2.Channel:
        tenant_id, channel_id = _channel_name(request.name)
        return await self._proto(
            await self._admin.disable(current_principal(), tenant_id, channel_id)
        )

    async def TestChannel(
        self, request: channel_pb2.TestChannelRequest, context: Context
    ) -> channel_pb2.TestChannelResponse:
        tenant_id, channel_id = _channel_name(request.name)
        check = await self._admin.test(current_principal(), tenant_id, channel_id)
        latency = duration_pb2.Duration()
        latency.FromTimedelta(check.latency)
        return channel_pb2.TestChannelResponse(ok=check.ok, message=check.message, latency=latency)

    async def ListMessageTemplates(
        self, request: channel_pb2.ListMessageTemplatesRequest, context: Context
    ) -> channel_pb2.ListMessageTemplatesResponse:
        tenant_id, channel_id = _channel_name(request.parent, "parent")
        found, token = await self._templates.list(
            current_principal(),
            tenant_id,
            channel_id,
            size=request.page_size,
            token=request.page_token,
        )
        return channel_pb2.ListMessageTemplatesResponse(
            message_templates=[template_to_proto(t) for t in found], next_page_token=token
        )

    async def SyncMessageTemplates(
        self, request: channel_pb2.SyncMessageTemplatesRequest, context: Context
    ) -> channel_pb2.SyncMessageTemplatesResponse:
        tenant_id, channel_id = _channel_name(request.parent, "parent")
        result = await self._templates.sync(current_principal(), tenant_id, channel_id)
        return channel_pb2.SyncMessageTemplatesResponse(
            template_count=result.template_count, changed_count=result.changed_count
        )
