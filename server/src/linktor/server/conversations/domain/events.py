"""Events of the conversations context (types as in linktor.v1.Event.type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from linktor.server.conversations.domain.conversation import Conversation


@dataclass(frozen=True)
class ConversationEvent:
    """A conversation was created or changed; ``conversation`` is its state afterwards."""

    conversation: Conversation
    type: ClassVar[str] = ""

    @property
    def tenant_id(self) -> str:
        return self.conversation.tenant_id

    @property
    def subject_name(self) -> str:
        return self.conversation.name


@dataclass(frozen=True)
class ConversationCreated(ConversationEvent):
    type: ClassVar[str] = "conversation.created"


@dataclass(frozen=True)
class ConversationUpdated(ConversationEvent):
    type: ClassVar[str] = "conversation.updated"


@dataclass(frozen=True)
class ConversationAssigned(ConversationEvent):
    type: ClassVar[str] = "conversation.assigned"


@dataclass(frozen=True)
class ConversationResolved(ConversationEvent):
    type: ClassVar[str] = "conversation.resolved"


@dataclass(frozen=True)
class ConversationDeleted(ConversationEvent):
    """Deleted with its contact, or absorbed by another conversation in a contact merge;
    ``conversation`` is its last state."""

    type: ClassVar[str] = "conversation.deleted"
