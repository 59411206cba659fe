"""How each context's domain events become linktor.v1.Event payloads.

Registered once, at import, by the composition root (and by tests building a pipeline).
"""

from __future__ import annotations

from linktor.server.contacts.api.mapping import contact_to_proto
from linktor.server.contacts.domain.events import ContactEvent, ContactsMerged
from linktor.server.conversations.api.mapping import conversation_to_proto
from linktor.server.conversations.domain.events import ConversationEvent
from linktor.server.events.app.recorder import register_serializer
from linktor.server.messaging.api.mapping import message_to_proto
from linktor.server.messaging.domain.events import MessageEvent
from linktor.server.webhooks.api.serializers import endpoint_disabled
from linktor.server.webhooks.domain.events import EndpointDisabled
from linktor.v1 import event_pb2


def _message(event: MessageEvent, out: event_pb2.Event) -> None:
    out.message.CopyFrom(message_to_proto(event.message))


def _conversation(event: ConversationEvent, out: event_pb2.Event) -> None:
    out.conversation.CopyFrom(conversation_to_proto(event.conversation))


def _contact(event: ContactEvent, out: event_pb2.Event) -> None:
    if event.type == "contact.deleted":
        out.deleted.name = event.contact.name
    else:
        out.contact.CopyFrom(contact_to_proto(event.contact))


def _merged(event: ContactsMerged, out: event_pb2.Event) -> None:
    out.contact_merged.contact.CopyFrom(contact_to_proto(event.contact))
    out.contact_merged.merged_contacts.extend(event.merged_contacts)


def register_all() -> None:
    register_serializer(MessageEvent, _message)
    register_serializer(ConversationEvent, _conversation)
    register_serializer(ContactEvent, _contact)
    register_serializer(ContactsMerged, _merged)
    register_serializer(EndpointDisabled, endpoint_disabled)


register_all()
