"""What the web chat context needs from the rest of the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from linktor.server.media.domain.attachment import Attachment
from linktor.server.messaging.app.inbound_queue import InboundBatch
from linktor.server.webchat.domain.settings import WidgetSettings
from linktor.v1 import event_pb2


@dataclass(frozen=True)
class WebchatChannel:
    """A web chat channel as the visitor endpoint uses it (found by its public key)."""

    tenant_id: str
    channel_id: str
    #: The key in the widget's ``data-channel`` (the channel's webhook token).
    key: str = field(repr=False)
    settings: WidgetSettings
    #: Canonical origins (``https://host[:port]``); empty: any origin.
    allowed_origins: tuple[str, ...]
    #: False for a disabled channel: no new sessions, sockets or messages.
    enabled: bool

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/channels/{self.channel_id}"


class WebchatChannels(Protocol):
    async def by_key(self, key: str) -> WebchatChannel | None:
        """The WEBCHAT channel with this public key, or None (unknown, deleted, or a channel
        of another type). Raises Unavailable while its adapter is not reachable yet."""
        ...


class VisitorContacts(Protocol):
    async def contact_of(self, tenant_id: str, visitor_id: str) -> str | None:
        """The name of the contact owning the visitor's WEBCHAT address, if one exists yet."""
        ...


class EventPositions(Protocol):
    async def last_sequence(self, tenant_id: str) -> int:
        """The tenant's latest event sequence (0 when it has none)."""
        ...


class EphemeralEvents(Protocol):
    async def publish_ephemeral(self, tenant_id: str, event: event_pb2.Event) -> None:
        """Send an event to every replica's live streams without storing it."""
        ...


class InboundSink(Protocol):
    async def persist(self, batch: InboundBatch) -> None:
        """Store the batch durably (outbox) for the inbound workers; raises when it could
        not be stored."""
        ...


class AttachmentLookup(Protocol):
    async def lookup(self, tenant_id: str, attachment_id: str) -> Attachment | None:
        """The tenant's attachment, or None."""
        ...
