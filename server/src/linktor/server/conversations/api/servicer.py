"""linktor.v1.ConversationService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc

from linktor.server.api.field_masks import update_paths
from linktor.server.conversations.api.mapping import (
    UPDATABLE,
    changes_from_proto,
    conversation_to_proto,
    filter_from_proto,
    id_in_tenant,
)
from linktor.server.conversations.app.conversations import ConversationAdmin
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.principal import current_principal
from linktor.server.shared.proto_time import from_timestamp
from linktor.v1 import conversation_pb2, conversation_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]
Conversation = conversation_pb2.Conversation


def _name(name: str, field: str = "name") -> tuple[str, str]:
    parts = names.CONVERSATION.parse(name, field)
    return parts["tenant"], parts["conversation"]


class ConversationServicer(conversation_pb2_grpc.ConversationServiceServicer):
    def __init__(self, conversations: ConversationAdmin) -> None:
        self._conversations = conversations

    async def GetConversation(
        self, request: conversation_pb2.GetConversationRequest, context: Context
    ) -> Conversation:
        tenant_id, conversation_id = _name(request.name)
        found = await self._conversations.get(current_principal(), tenant_id, conversation_id)
        return conversation_to_proto(found)

    async def ListConversations(
        self, request: conversation_pb2.ListConversationsRequest, context: Context
    ) -> conversation_pb2.ListConversationsResponse:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        page = await self._conversations.list(
            current_principal(),
            tenant_id,
            filter_from_proto(request, tenant_id),
            size=request.page_size,
            token=request.page_token,
        )
        return conversation_pb2.ListConversationsResponse(
            conversations=[conversation_to_proto(c) for c in page.conversations],
            next_page_token=page.next_page_token,
        )

    async def UpdateConversation(
        self, request: conversation_pb2.UpdateConversationRequest, context: Context
    ) -> Conversation:
        tenant_id, conversation_id = _name(request.conversation.name, "conversation.name")
        paths = update_paths(request.update_mask, request.conversation, UPDATABLE, "conversation")
        updated = await self._conversations.update(
            current_principal(),
            tenant_id,
            conversation_id,
            changes_from_proto(request.conversation, paths),
            etag=request.conversation.etag,
        )
        return conversation_to_proto(updated)

    async def AssignConversation(
        self, request: conversation_pb2.AssignConversationRequest, context: Context
    ) -> Conversation:
        tenant_id, conversation_id = _name(request.name)
        user_id = None
        if request.assignee:
            user_id = id_in_tenant(names.USER, request.assignee, tenant_id, "assignee")
        updated = await self._conversations.assign(
            current_principal(), tenant_id, conversation_id, user_id, etag=request.etag
        )
        return conversation_to_proto(updated)

    async def ResolveConversation(
        self, request: conversation_pb2.ResolveConversationRequest, context: Context
    ) -> Conversation:
        tenant_id, conversation_id = _name(request.name)
        updated = await self._conversations.resolve(
            current_principal(), tenant_id, conversation_id, etag=request.etag
        )
        return conversation_to_proto(updated)

    async def ReopenConversation(
        self, request: conversation_pb2.ReopenConversationRequest, context: Context
    ) -> Conversation:
        tenant_id, conversation_id = _name(request.name)
        updated = await self._conversations.reopen(
            current_principal(), tenant_id, conversation_id, etag=request.etag
        )
        return conversation_to_proto(updated)

    async def SnoozeConversation(
        self, request: conversation_pb2.SnoozeConversationRequest, context: Context
    ) -> Conversation:
        tenant_id, conversation_id = _name(request.name)
        if not request.HasField("snooze_time"):
            raise InvalidArgument.for_field("snooze_time", "is required")
        updated = await self._conversations.snooze(
            current_principal(),
            tenant_id,
            conversation_id,
            from_timestamp(request.snooze_time),
            etag=request.etag,
        )
        return conversation_to_proto(updated)

    async def MarkConversationRead(
        self, request: conversation_pb2.MarkConversationReadRequest, context: Context
    ) -> Conversation:
        tenant_id, conversation_id = _name(request.name)
        message_id = None
        if request.last_read_message:
            parts = names.MESSAGE.parse(request.last_read_message, "last_read_message")
            if (parts["tenant"], parts["conversation"]) != (tenant_id, conversation_id):
                raise InvalidArgument.for_field(
                    "last_read_message", "is not a message of this conversation"
                )
            message_id = parts["message"]
        updated = await self._conversations.mark_read(
            current_principal(), tenant_id, conversation_id, message_id
        )
        return conversation_to_proto(updated)

    async def SendTypingIndicator(
        self, request: conversation_pb2.SendTypingIndicatorRequest, context: Context
    ) -> conversation_pb2.SendTypingIndicatorResponse:
        tenant_id, conversation_id = _name(request.name)
        supported = await self._conversations.send_typing(
            current_principal(), tenant_id, conversation_id, request.typing
        )
        return conversation_pb2.SendTypingIndicatorResponse(supported=supported)
