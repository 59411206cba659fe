"""A kit-served adapter that breaks the contract in the ways the conformance suite checks."""

from __future__ import annotations

from typing import Any

import grpc

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.adapterkit import serve
from linktor.v1 import channel_pb2, common_pb2, message_pb2


class Bad(adapter_pb2_grpc.ChannelAdapterServicer):
    """Not a BaseAdapter: nothing guards it."""

    async def GetCapabilities(
        self, request: Any, context: Any
    ) -> adapter_pb2.GetCapabilitiesResponse:
        return adapter_pb2.GetCapabilitiesResponse(
            channel_type=common_pb2.CHANNEL_TYPE_SMS,
            adapter_name="bad",
            capabilities=channel_pb2.ChannelCapabilities(
                content_kinds=[channel_pb2.CONTENT_KIND_TEXT]
            ),
            config_fields=[adapter_pb2.ConfigField(key="token", secret=True, required=True)],
        )

    async def ValidateConfig(
        self, request: Any, context: Any
    ) -> adapter_pb2.ValidateConfigResponse:
        response = adapter_pb2.ValidateConfigResponse()
        response.violations.add(field="token", description="missing")  # no secrets. prefix
        return response

    async def Send(self, request: Any, context: Any) -> adapter_pb2.SendResponse:
        return adapter_pb2.SendResponse(
            provider_message_id="p1", status=message_pb2.MESSAGE_STATUS_SENT
        )  # accepts everything

    async def HandleWebhook(self, request: Any, context: Any) -> adapter_pb2.HandleWebhookResponse:
        return adapter_pb2.HandleWebhookResponse(
            response=adapter_pb2.HttpResponse(status=200), authenticated=True
        )

    async def MarkRead(self, request: Any, context: Any) -> adapter_pb2.MarkReadResponse:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "no")
        raise AssertionError


if __name__ == "__main__":
    # The other RPCs stay abstract: grpc answers them UNIMPLEMENTED, as a careless server would.
    serve(Bad(), grace_seconds=0.1)  # type: ignore[abstract]
