"""linktor.v1.WebhookService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2

from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.idempotency import fingerprint
from linktor.server.shared.principal import current_principal
from linktor.server.shared.proto_time import from_timestamp
from linktor.server.webhooks.api.mapping import (
    DELIVERY,
    delivery_to_proto,
    draft_from_proto,
    endpoint_to_proto,
    patch_from_proto,
    state_from_proto,
)
from linktor.server.webhooks.app.deliveries import DeliveryLog
from linktor.server.webhooks.app.endpoints import EndpointAdmin
from linktor.v1 import webhook_pb2, webhook_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def _endpoint_name(name: str, field: str = "name") -> tuple[str, str]:
    parts = names.WEBHOOK_ENDPOINT.parse(name, field)
    return parts["tenant"], parts["webhook_endpoint"]


def _delivery_name(name: str) -> tuple[str, str, str]:
    parts = DELIVERY.parse(name)
    return parts["tenant"], parts["webhook_endpoint"], parts["delivery"]


class WebhookServicer(webhook_pb2_grpc.WebhookServiceServicer):
    def __init__(self, endpoints: EndpointAdmin, deliveries: DeliveryLog) -> None:
        self._endpoints = endpoints
        self._deliveries = deliveries

    async def CreateWebhookEndpoint(
        self, request: webhook_pb2.CreateWebhookEndpointRequest, context: Context
    ) -> webhook_pb2.WebhookEndpoint:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        if not request.HasField("webhook_endpoint"):
            raise InvalidArgument.for_field("webhook_endpoint", "is required")
        made = await self._endpoints.create(
            current_principal(),
            tenant_id,
            draft_from_proto(request.webhook_endpoint),
            request_id=request.request_id,
            request_hash=fingerprint(request) if request.request_id else "",
        )
        return endpoint_to_proto(made.endpoint, made.secret)

    async def GetWebhookEndpoint(
        self, request: webhook_pb2.GetWebhookEndpointRequest, context: Context
    ) -> webhook_pb2.WebhookEndpoint:
        tenant_id, endpoint_id = _endpoint_name(request.name)
        return endpoint_to_proto(
            await self._endpoints.get(current_principal(), tenant_id, endpoint_id)
        )

    async def ListWebhookEndpoints(
        self, request: webhook_pb2.ListWebhookEndpointsRequest, context: Context
    ) -> webhook_pb2.ListWebhookEndpointsResponse:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        found, token = await self._endpoints.list(
            current_principal(), tenant_id, size=request.page_size, token=request.page_token
        )
        return webhook_pb2.ListWebhookEndpointsResponse(
            webhook_endpoints=[endpoint_to_proto(e) for e in found], next_page_token=token
        )

    async def UpdateWebhookEndpoint(
        self, request: webhook_pb2.UpdateWebhookEndpointRequest, context: Context
    ) -> webhook_pb2.WebhookEndpoint:
        if not request.HasField("webhook_endpoint"):
            raise InvalidArgument.for_field("webhook_endpoint", "is required")
        tenant_id, endpoint_id = _endpoint_name(
            request.webhook_endpoint.name, "webhook_endpoint.name"
        )
        patch = patch_from_proto(request.webhook_endpoint, request.update_mask)
        endpoint = await self._endpoints.update(current_principal(), tenant_id, endpoint_id, patch)
        return endpoint_to_proto(endpoint)

    async def DeleteWebhookEndpoint(
        self, request: webhook_pb2.DeleteWebhookEndpointRequest, context: Context
    ) -> empty_pb2.Empty:
        tenant_id, endpoint_id = _endpoint_name(request.name)
        await self._endpoints.delete(current_principal(), tenant_id, endpoint_id)
        return empty_pb2.Empty()

    async def RotateWebhookSecret(
        self, request: webhook_pb2.RotateWebhookSecretRequest, context: Context
    ) -> webhook_pb2.WebhookEndpoint:
        tenant_id, endpoint_id = _endpoint_name(request.name)
        grace = request.grace_period.ToTimedelta() if request.HasField("grace_period") else None
        rotated = await self._endpoints.rotate_secret(
            current_principal(), tenant_id, endpoint_id, grace
        )
        return endpoint_to_proto(rotated.endpoint, rotated.secret)

    async def TestWebhookEndpoint(
        self, request: webhook_pb2.TestWebhookEndpointRequest, context: Context
    ) -> webhook_pb2.WebhookDelivery:
        tenant_id, endpoint_id = _endpoint_name(request.name)
        record = await self._deliveries.test(current_principal(), tenant_id, endpoint_id)
        return delivery_to_proto(record.delivery, record.attempts)

    async def ReplayWebhookEvents(
        self, request: webhook_pb2.ReplayWebhookEventsRequest, context: Context
    ) -> webhook_pb2.ReplayWebhookEventsResponse:
        tenant_id, endpoint_id = _endpoint_name(request.name)
        queued = await self._deliveries.replay_events(
            current_principal(),
            tenant_id,
            endpoint_id,
            start_time=(
                from_timestamp(request.start_time) if request.HasField("start_time") else None
            ),
            after_sequence=request.after_sequence,
        )
        return webhook_pb2.ReplayWebhookEventsResponse(queued_count=queued)

    async def ListWebhookDeliveries(
        self, request: webhook_pb2.ListWebhookDeliveriesRequest, context: Context
    ) -> webhook_pb2.ListWebhookDeliveriesResponse:
        tenant_id, endpoint_id = _endpoint_name(request.parent, "parent")
        found, token = await self._deliveries.list(
            current_principal(),
            tenant_id,
            endpoint_id,
            size=request.page_size,
            token=request.page_token,
            state=state_from_proto(request.state),
            event_type=request.event_type,
        )
        return webhook_pb2.ListWebhookDeliveriesResponse(
            deliveries=[delivery_to_proto(d) for d in found], next_page_token=token
        )

    async def GetWebhookDelivery(
        self, request: webhook_pb2.GetWebhookDeliveryRequest, context: Context
    ) -> webhook_pb2.WebhookDelivery:
        tenant_id, endpoint_id, delivery_id = _delivery_name(request.name)
        record = await self._deliveries.get(
            current_principal(), tenant_id, endpoint_id, delivery_id
        )
        return delivery_to_proto(record.delivery, record.attempts)

    async def ReplayWebhookDelivery(
        self, request: webhook_pb2.ReplayWebhookDeliveryRequest, context: Context
    ) -> webhook_pb2.WebhookDelivery:
        tenant_id, endpoint_id, delivery_id = _delivery_name(request.name)
        record = await self._deliveries.replay_delivery(
            current_principal(), tenant_id, endpoint_id, delivery_id
        )
        return delivery_to_proto(record.delivery, record.attempts)
