"""Ports of the conversations context.

Messaging (sending and receiving) uses :class:`ConversationRepository` through its own unit of
work, bound to the same transaction as the message it stores. ``for_update=True`` locks the
conversation row until the transaction ends: sends into one conversation are serialized there,
which is what gives its messages a gap-free sequence in acceptance order.
"""

from __future__ import annotations

from typing import Protocol

from linktor.server.conversations.domain.conversation import Conversation


class ConversationRepository(Protocol):
    async def get(
        self, tenant_id: str, conversation_id: str, *, for_update: bool = False
    ) -> Conversation | None:
        """The conversation, or None (also for another tenant's)."""
        ...

    async def find(
        self, tenant_id: str, channel_id: str, contact_id: str, *, for_update: bool = False
    ) -> Conversation | None:
        """The conversation of a contact on a channel, or None."""
        ...

    async def add(self, conversation: Conversation) -> None:
        """Store a new conversation; AlreadyExists when (channel, contact) already has one
        (the transaction stays usable)."""
        ...

    async def update(self, conversation: Conversation, *, expected_version: int) -> Conversation:
        """Store changes; Aborted on a version mismatch. Returns it with its new version."""
        ...
