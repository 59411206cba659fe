"""Events of the messaging context (types as in linktor.v1.Event.type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from linktor.server.messaging.domain.message import Message


@dataclass(frozen=True)
class MessageEvent:
    """A message was stored or changed; ``message`` is its state afterwards."""

    message: Message
    type: ClassVar[str] = ""

    @property
    def tenant_id(self) -> str:
        return self.message.tenant_id

    @property
    def subject_name(self) -> str:
        return f"tenants/{self.message.tenant_id}/conversations/{self.message.conversation_id}"


@dataclass(frozen=True)
class MessageCreated(MessageEvent):
    type: ClassVar[str] = "message.created"


@dataclass(frozen=True)
class MessageUpdated(MessageEvent):
    type: ClassVar[str] = "message.updated"
