"""linktor.v1.MessageService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc

from linktor.server.messaging.api.mapping import message_to_proto
from linktor.server.messaging.app.queries import MessageQueries
from linktor.server.messaging.app.send import SendCommand, SendMessage
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.idempotency import fingerprint
from linktor.server.shared.principal import current_principal
from linktor.v1 import message_pb2, message_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]

MAX_REQUEST_ID = 128


class MessageServicer(message_pb2_grpc.MessageServiceServicer):
    def __init__(self, send: SendMessage, queries: MessageQueries) -> None:
        self._send = send
        self._queries = queries

    async def SendMessage(
        self, request: message_pb2.SendMessageRequest, context: Context
    ) -> message_pb2.Message:
        principal = current_principal()
        message = await self._send(principal, self._command(request))
        return message_to_proto(message)

    def _command(self, request: message_pb2.SendMessageRequest) -> SendCommand:
        principal = current_principal()
        conversation_id: str | None = None
        channel_id: str | None = None
        if request.conversation:
            parts = names.CONVERSATION.parse(request.conversation, "conversation")
            tenant_id, conversation_id = parts["tenant"], parts["conversation"]
        elif request.HasField("recipient"):
            parts = names.CHANNEL.parse(request.recipient.channel, "recipient.channel")
            tenant_id, channel_id = parts["tenant"], parts["channel"]
        else:
            raise InvalidArgument.for_field(
                "conversation", "set a conversation, or a recipient (channel and address)"
            )
        if request.tenant:
            named = names.TENANT.parse(request.tenant, "tenant")["tenant"]
            if named != tenant_id:
                raise InvalidArgument.for_field("tenant", "must be the tenant of the target")
        principal.own_tenant(tenant_id, request.conversation or request.recipient.channel)
        if not request.HasField("content"):
            raise InvalidArgument.for_field("content", "is required")
        if len(request.request_id) > MAX_REQUEST_ID:
            raise InvalidArgument.for_field(
                "request_id", f"must be at most {MAX_REQUEST_ID} characters"
            )
        reply_to_id: str | None = None
        if request.reply_to:
            reply = names.MESSAGE.parse(request.reply_to, "reply_to")
            if reply["tenant"] != tenant_id or (
                conversation_id is not None and reply["conversation"] != conversation_id
            ):
                raise InvalidArgument.for_field(
                    "reply_to", "must be a message of the same conversation"
                )
            reply_to_id = reply["message"]
        normalized = message_pb2.SendMessageRequest()
        normalized.CopyFrom(request)
        normalized.tenant = f"tenants/{tenant_id}"
        return SendCommand(
            tenant_id=tenant_id,
            content=request.content,
            conversation_id=conversation_id,
            channel_id=channel_id,
            address=request.recipient.address if channel_id else "",
            display_name=request.recipient.display_name if channel_id else "",
            reply_to_id=reply_to_id,
            request_id=request.request_id,
            request_hash=fingerprint(normalized, ignore=("request_id", "validate_only")),
            metadata=dict(request.metadata),
            validate_only=request.validate_only,
        )

    async def GetMessage(
        self, request: message_pb2.GetMessageRequest, context: Context
    ) -> message_pb2.Message:
        parts = names.MESSAGE.parse(request.name)
        tenant_id = current_principal().own_tenant(parts["tenant"], request.name)
        message, attempts = await self._queries.get(
            tenant_id,
            parts["conversation"],
            parts["message"],
            with_attempts=request.view == message_pb2.MESSAGE_VIEW_FULL,
        )
        return message_to_proto(message, attempts)

    async def ListMessages(
        self, request: message_pb2.ListMessagesRequest, context: Context
    ) -> message_pb2.ListMessagesResponse:
        parts = names.CONVERSATION.parse(request.parent, "parent")
        tenant_id = current_principal().own_tenant(parts["tenant"], request.parent)
        page = await self._queries.list(
            tenant_id,
            parts["conversation"],
            size=request.page_size,
            token=request.page_token,
            with_attempts=request.view == message_pb2.MESSAGE_VIEW_FULL,
        )
        return message_pb2.ListMessagesResponse(
            messages=[message_to_proto(m, a) for m, a in page.messages],
            next_page_token=page.next_page_token,
        )
