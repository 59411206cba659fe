"""Reading messages: one message, or a conversation's messages newest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.domain.message import Attempt, Message
from linktor.server.shared.errors import NotFound
from linktor.server.shared.pagination import PageToken, fingerprint, page_size


@dataclass(frozen=True)
class MessagePage:
    messages: list[tuple[Message, list[Attempt]]]
    next_page_token: str


class MessageQueries:
    def __init__(self, uow: Callable[[str], SqlMessagingUnitOfWork]) -> None:
        self._uow = uow

    async def get(
        self, tenant_id: str, conversation_id: str, message_id: str, *, with_attempts: bool
    ) -> tuple[Message, list[Attempt]]:
        async with self._uow(tenant_id) as uow:
            message = await uow.messages.get(tenant_id, message_id)
            if message is None or message.conversation_id != conversation_id:
                raise NotFound(
                    f"tenants/{tenant_id}/conversations/{conversation_id}/messages/{message_id}"
                    " not found"
                )
            attempts = (await uow.messages.attempts([message.id])) if with_attempts else {}
        return message, attempts.get(message.id, [])

    async def list(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        size: int,
        token: str,
        with_attempts: bool,
    ) -> MessagePage:
        filters = {"conversation": conversation_id}
        position = PageToken.decode(token, filters)
        limit = page_size(size)
        async with self._uow(tenant_id) as uow:
            conversation = await uow.conversations.get(tenant_id, conversation_id)
            if conversation is None:
                raise NotFound(f"tenants/{tenant_id}/conversations/{conversation_id} not found")
            before = int(position.last[0]) if position else None
            found = await uow.messages.in_conversation(
                tenant_id, conversation_id, limit=limit + 1, before_seq=before
            )
            page = found[:limit]
            attempts = await uow.messages.attempts([m.id for m in page]) if with_attempts else {}
        next_token = ""
        if len(found) > limit:
            next_token = PageToken([page[-1].seq], fingerprint(filters)).encode()
        return MessagePage([(m, attempts.get(m.id, [])) for m in page], next_token)
