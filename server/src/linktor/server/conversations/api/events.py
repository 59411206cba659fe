"""The Event payload of conversation.deleted: the name of the deleted conversation (the other
conversation events carry the conversation, see events.app.serializers)."""

from __future__ import annotations

from linktor.server.conversations.domain.events import ConversationDeleted
from linktor.server.events.app.recorder import register_serializer
from linktor.v1 import event_pb2


def _deleted(event: ConversationDeleted, out: event_pb2.Event) -> None:
    out.deleted.name = event.conversation.name


def register() -> None:
    register_serializer(ConversationDeleted, _deleted)
