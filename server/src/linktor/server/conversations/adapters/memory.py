"""In-memory conversation repository: a fake of the port for unit tests (no transactions,
``for_update`` is accepted and ignored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.shared.errors import Aborted, AlreadyExists


class InMemoryConversationRepository:
    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}

    async def get(
        self, tenant_id: str, conversation_id: str, *, for_update: bool = False
    ) -> Conversation | None:
        found = self.conversations.get(conversation_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    async def find(
        self, tenant_id: str, channel_id: str, contact_id: str, *, for_update: bool = False
    ) -> Conversation | None:
        return next(
            (
                c
                for c in self.conversations.values()
                if (c.tenant_id, c.channel_id, c.contact_id) == (tenant_id, channel_id, contact_id)
            ),
            None,
        )

    def _check_unique(self, conversation: Conversation) -> None:
        other = next(
            (
                c
                for c in self.conversations.values()
                if c.id != conversation.id
                and (c.tenant_id, c.channel_id, c.contact_id)
                == (conversation.tenant_id, conversation.channel_id, conversation.contact_id)
            ),
            None,
        )
        if other is not None:
            raise AlreadyExists(
                f"{other.name} already is the conversation of this contact on this channel",
                reason="CONVERSATION_EXISTS",
            )

    async def add(self, conversation: Conversation) -> None:
        if conversation.id in self.conversations:
            raise AlreadyExists(f"{conversation.name} already exists")
        self._check_unique(conversation)
        self.conversations[conversation.id] = conversation

    async def update(self, conversation: Conversation, *, expected_version: int) -> Conversation:
        stored = await self.get(conversation.tenant_id, conversation.id)
        if stored is None or stored.version != expected_version:
            raise Aborted(f"{conversation.name} was changed concurrently; read it again")
        self._check_unique(conversation)
        saved = replace(conversation, version=expected_version + 1)
        self.conversations[conversation.id] = saved
        return saved

    async def list_for_contact(
        self, tenant_id: str, contact_id: str, *, for_update: bool = False
    ) -> list[Conversation]:
        found = [
            c
            for c in self.conversations.values()
            if c.tenant_id == tenant_id and c.contact_id == contact_id
        ]
        return sorted(found, key=lambda c: (c.create_time, c.id))

    async def delete(self, tenant_id: str, conversation_ids: Sequence[str]) -> None:
        for conversation_id in conversation_ids:
            if await self.get(tenant_id, conversation_id) is not None:
                del self.conversations[conversation_id]

    async def due_snoozes(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        due = sorted(
            (
                c
                for c in self.conversations.values()
                if c.status is ConversationStatus.SNOOZED
                and c.snooze_time is not None
                and c.snooze_time <= now
            ),
            key=lambda c: c.snooze_time or now,
        )
        return [(c.tenant_id, c.id) for c in due[:limit]]
