"""linktor.v1.EventService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from linktor.server.events.app.stream import EventReader, StreamFilter
from linktor.server.shared import names
from linktor.server.shared.principal import current_principal
from linktor.v1 import event_pb2, event_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class EventServicer(event_pb2_grpc.EventServiceServicer):
    def __init__(self, reader: EventReader) -> None:
        self._reader = reader

    async def StreamEvents(
        self, request: event_pb2.StreamEventsRequest, context: Context
    ) -> AsyncIterator[event_pb2.Event]:
        tenant = names.TENANT.parse(request.parent, "parent")["tenant"]
        tenant_id = current_principal().own_tenant(tenant, request.parent)
        conversation = ""
        if request.conversation:
            parts = names.CONVERSATION.parse(request.conversation, "conversation")
            current_principal().own_tenant(parts["tenant"], request.conversation)
            conversation = request.conversation
        filters = StreamFilter(list(request.types), conversation, request.include_ephemeral)
        async for event in self._reader.stream(tenant_id, request.after_sequence, filters):
            yield event

    async def ListEvents(
        self, request: event_pb2.ListEventsRequest, context: Context
    ) -> event_pb2.ListEventsResponse:
        tenant = names.TENANT.parse(request.parent, "parent")["tenant"]
        tenant_id = current_principal().own_tenant(tenant, request.parent)
        found, token = await self._reader.page(
            tenant_id,
            request.after_sequence,
            list(request.types),
            request.page_size,
            request.page_token,
        )
        return event_pb2.ListEventsResponse(events=found, next_page_token=token)
