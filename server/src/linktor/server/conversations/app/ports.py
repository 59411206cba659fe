"""Ports of the conversations context.

Messaging (sending and receiving) uses :class:`ConversationRepository` through its own unit of
work, bound to the same transaction as the message it stores. ``for_update=True`` locks the
conversation row until the transaction ends: sends into one conversation are serialized there,
which is what gives its messages a gap-free sequence in acceptance order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.conversations.domain.merge import MessagePosition
from linktor.server.shared.domain_events import EventRecorder
from linktor.server.shared.principal import Principal
from linktor.server.shared.unit_of_work import UnitOfWork


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


# --- What the conversations API and the contact merge need beyond the repository above. ---


@dataclass(frozen=True)
class ConversationFilter:
    """ListConversations filters; they combine with AND."""

    statuses: frozenset[ConversationStatus] = frozenset()
    channel_id: str | None = None
    assignee_user_id: str | None = None
    unassigned: bool = False
    unread: bool = False
    contact_id: str | None = None
    # Case-insensitive substring of the contact's display name or of a message text.
    query: str = ""


@dataclass(frozen=True)
class ListedConversation:
    """A conversation in a list, with the activity time it is sorted by in that list's
    snapshot (its activity as of the snapshot, which is older when it moved since)."""

    conversation: Conversation
    sort_time: datetime


class ConversationStore(ConversationRepository, Protocol):
    async def list_for_contact(
        self, tenant_id: str, contact_id: str, *, for_update: bool = False
    ) -> list[Conversation]:
        """Every conversation of a contact, oldest first."""
        ...

    async def delete(self, tenant_id: str, conversation_ids: Sequence[str]) -> None:
        """Delete conversations whose messages are already gone."""
        ...

    async def due_snoozes(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        """(tenant id, conversation id) of snoozed conversations due at ``now``."""
        ...

    async def list_page(
        self,
        tenant_id: str,
        where: ConversationFilter,
        *,
        snapshot: datetime,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[ListedConversation]:
        """Conversations that existed at ``snapshot``, ordered by (activity as of the
        snapshot, id) descending, starting after the (sort time, id) ``after``."""
        ...


class ConversationMessages(Protocol):
    """The conversations context's view of the messages table: positions, moves and read
    marks. Messaging owns messages; these are the few bulk operations the inbox needs."""

    async def positions(self, tenant_id: str, conversation_id: str) -> list[MessagePosition]:
        """The conversation's messages in seq order."""
        ...

    async def place(self, tenant_id: str, conversation_id: str, message_ids: Sequence[str]) -> None:
        """Make ``message_ids`` the messages of ``conversation_id`` with seq 1, 2, ... in that
        order (they may come from other conversations)."""
        ...

    async def reassign_contact(self, tenant_id: str, from_contact: str, to_contact: str) -> None:
        """Messages of ``from_contact`` now belong to ``to_contact``."""
        ...

    async def seq_of(self, tenant_id: str, conversation_id: str, message_id: str) -> int | None:
        """The seq of a message of the conversation, or None when it is not one of them."""
        ...

    async def mark_inbound_read(
        self, tenant_id: str, conversation_id: str, up_to_seq: int | None, now: datetime
    ) -> list[str]:
        """Inbound messages not yet READ, up to ``up_to_seq`` (all when None), become READ;
        returns their ids in seq order."""
        ...

    async def delete_in(self, tenant_id: str, conversation_ids: Sequence[str]) -> int:
        """Delete the messages of conversations (with their delivery attempts); how many."""
        ...


class ConversationsUnitOfWork(UnitOfWork, Protocol):
    @property
    def conversations(self) -> ConversationStore: ...

    @property
    def messages(self) -> ConversationMessages: ...

    @property
    def events(self) -> EventRecorder: ...


class ConversationsStore(Protocol):
    def scoped(self, tenant_id: str) -> ConversationsUnitOfWork:
        """A unit of work seeing one tenant's rows."""
        ...

    def privileged(self) -> ConversationsUnitOfWork:
        """A unit of work seeing every tenant (background workers)."""
        ...


class TenantMembers(Protocol):
    """The identity context, asked whether someone may be assigned conversations."""

    async def is_active_member(
        self, principal: Principal, tenant_id: str, user_id: str
    ) -> bool: ...


class ReadReceipts(Protocol):
    """Messaging's hook for read receipts to the contact's channel, called after the read
    marks are committed, with the inbound messages that just became READ."""

    async def messages_read(
        self, conversation: Conversation, message_ids: Sequence[str]
    ) -> None: ...


class NoReadReceipts:
    async def messages_read(self, conversation: Conversation, message_ids: Sequence[str]) -> None:
        return None


class TypingIndicators(Protocol):
    """Messaging's hook for the agent's typing indicator to the contact's channel."""

    async def send_typing(self, conversation: Conversation, typing: bool, actor: str) -> bool:
        """Whether the channel supports typing indicators (False: nothing was sent)."""
        ...


class NoTypingIndicators:
    async def send_typing(self, conversation: Conversation, typing: bool, actor: str) -> bool:
        return False
