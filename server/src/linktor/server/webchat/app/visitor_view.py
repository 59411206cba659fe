"""What one visitor sees of the tenant's event stream, and how it looks on the socket.

The stream is the tenant's (``EventReader.stream``: stored events exactly once and in order,
then live, resumable by sequence); this view keeps only the events of the visitor's own
conversation on its channel and turns them into frames. Before the visitor's first message
there is no contact yet: the view recognizes the visitor's messages by their provider
message ids (``<visitor id>:<client id>``, which only this endpoint writes) and learns the
contact from the first one. It never lets through an event of another contact, channel or
tenant (the reader is per tenant; the checks below are per contact and channel).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from linktor.server.webchat.domain.content_json import AttachmentLink, content_json
from linktor.server.webchat.limits import REMEMBERED_OUTBOUND
from linktor.v1 import event_pb2, message_pb2

_SHOWN = (
    message_pb2.MESSAGE_STATUS_SENT,
    message_pb2.MESSAGE_STATUS_DELIVERED,
    message_pb2.MESSAGE_STATUS_READ,
)
_STATUS_NAMES = {
    message_pb2.MESSAGE_STATUS_DELIVERED: "delivered",
    message_pb2.MESSAGE_STATUS_READ: "read",
    message_pb2.MESSAGE_STATUS_FAILED: "failed",
}
#: Event types the visitor socket reads (the rest of the tenant's stream is skipped early).
VISITOR_EVENT_TYPES = ["message.created", "message.updated", "typing.*"]


def provider_id_prefix(visitor_id: str) -> str:
    return visitor_id + ":"


class VisitorView:
    def __init__(
        self, channel_name: str, visitor_id: str, contact: str | None, link: AttachmentLink
    ) -> None:
        self.channel_name = channel_name
        self.visitor_id = visitor_id
        self.contact = contact
        self._prefix = provider_id_prefix(visitor_id)
        self._link = link
        self.conversations: set[str] = set()
        # Agent messages shown on this socket (name -> provider message id), oldest first:
        # the only ones the visitor may acknowledge.
        self._shown: OrderedDict[str, str] = OrderedDict()
        # Acknowledged so far: 1 received, 2 read (never sent twice).
        self._acked: dict[str, int] = {}

    def _mine(self, message: message_pb2.Message) -> bool:
        if message.channel != self.channel_name:
            return False
        if self.contact is None:
            if message.direction == message_pb2.MESSAGE_DIRECTION_INBOUND and (
                message.provider_message_id.startswith(self._prefix)
            ):
                self.contact = message.contact
            else:
                return False
        if message.contact != self.contact:
            return False
        self.conversations.add(message.name.rsplit("/messages/", 1)[0])
        return True

    @property
    def conversation(self) -> str:
        """The visitor's conversation on this channel, once a message of it was seen."""
        return next(iter(self.conversations), "")

    def frames(self, event: event_pb2.Event) -> list[dict[str, Any]]:
        which = event.WhichOneof("payload")
        if which == "message" and self._mine(event.message):
            return self._message_frames(event)
        if which == "typing" and event.typing.conversation in self.conversations:
            if event.typing.actor == self.contact:
                return []  # the visitor's own typing, echoed back
            return [{"type": "typing", "typing": event.typing.typing}]
        return []

    def _message_frames(self, event: event_pb2.Event) -> list[dict[str, Any]]:
        message = event.message
        if message.direction == message_pb2.MESSAGE_DIRECTION_INBOUND:
            if event.type == "message.created":
                frame = self._message_frame(event, "visitor")
                client_id = message.provider_message_id.removeprefix(self._prefix)
                if client_id != message.provider_message_id:
                    frame["id"] = client_id
                return [frame]
            status = _STATUS_NAMES.get(message.status)
            if status is None:
                return []
            return [
                {"type": "status", "seq": event.sequence, "message": message.name, "status": status}
            ]
        if message.status not in _SHOWN:
            return []
        if message.name in self._shown:
            return []  # already on this socket (later statuses change nothing it shows)
        self._shown[message.name] = message.provider_message_id
        while len(self._shown) > REMEMBERED_OUTBOUND:
            dropped, _ = self._shown.popitem(last=False)
            self._acked.pop(dropped, None)
        return [self._message_frame(event, "agent")]

    def _message_frame(self, event: event_pb2.Event, sender: str) -> dict[str, Any]:
        message = event.message
        return {
            "type": "message",
            "seq": event.sequence,
            "message": message.name,
            "from": sender,
            "sender_name": message.sender.display_name if sender == "agent" else "",
            "time": message.create_time.ToJsonString(),
            "content": content_json(message.content, self._link),
        }

    def acknowledgeable(self, name: str, *, read: bool) -> list[str]:
        """Provider ids of agent messages the visitor acknowledges with ``name`` and not
        before: that one when received, and every earlier one shown when read. Empty for a
        message not shown on this socket (a visitor acknowledges only what it was sent)."""
        if name not in self._shown:
            return []
        level = 2 if read else 1
        names = list(self._shown) if read else [name]
        ids: list[str] = []
        for shown in names:
            if self._acked.get(shown, 0) < level and self._shown[shown]:
                self._acked[shown] = level
                ids.append(self._shown[shown])
            if shown == name:
                break
        return ids
