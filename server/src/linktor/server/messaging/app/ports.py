"""Ports of the messaging context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self

from linktor.server.contacts.app.ports import ContactRepository
from linktor.server.conversations.app.ports import ConversationRepository
from linktor.server.messaging.domain.errors import DeliveryError
from linktor.server.messaging.domain.message import Attempt, Message
from linktor.server.messaging.domain.status import MessageStatus
from linktor.server.shared.domain_events import EventRecorder


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt changed, written with others in one transaction."""

    message: Message  # as claimed (status before the attempt)
    attempt: Attempt
    status: MessageStatus | None  # the new status, or None to keep the current one
    provider_message_id: str | None = None
    error: DeliveryError | None = None
    next_attempt_time: datetime | None = None


@dataclass(frozen=True)
class StatusReport:
    """A provider's report that an outbound message took a new status."""

    channel_id: str
    provider_message_id: str
    status: MessageStatus
    at: datetime
    error: DeliveryError | None = None


class MessageRepository(Protocol):
    async def add(self, message: Message) -> None: ...

    async def get(self, tenant_id: str, message_id: str) -> Message | None: ...

    async def by_provider_id(self, channel_id: str, provider_message_id: str) -> Message | None: ...

    async def in_conversation(
        self, tenant_id: str, conversation_id: str, *, limit: int, before_seq: int | None
    ) -> list[Message]:
        """Messages of a conversation, newest first, with seq below ``before_seq``."""
        ...

    async def attempts(self, message_ids: Sequence[str]) -> dict[str, list[Attempt]]: ...

    async def claim(
        self, message_ids: Sequence[str], now: datetime, lease_until: datetime
    ) -> list[Message]:
        """Take pending outbound messages for delivery: those not leased by another worker
        and with no earlier pending message in their conversation. Marks them QUEUED."""
        ...

    async def pending_states(
        self, message_ids: Sequence[str]
    ) -> dict[str, tuple[bool, datetime | None]]:
        """Whether each message is still pending and when its next attempt is due (the
        messages a claim did not get); missing ids do not exist."""
        ...

    async def claim_next_many(
        self, conversation_ids: Sequence[str], now: datetime, lease_until: datetime
    ) -> dict[str, Message]:
        """For each conversation, its first pending outbound message, claimed when it may
        go now (same rules as :meth:`claim`); conversations with none are absent."""
        ...

    async def record(self, results: Sequence[DeliveryResult], now: datetime) -> list[Message]:
        """Store attempts and status changes (never moving a status back); returns the
        messages whose status changed, as they are now."""
        ...

    async def release(self, message_id: str, next_attempt_time: datetime) -> None:
        """Give a claimed message back without an attempt; look at it again later."""
        ...

    async def apply_status(
        self,
        channel_id: str,
        provider_message_id: str,
        status: MessageStatus,
        at: datetime,
        error: DeliveryError | None,
    ) -> Message | None:
        """Apply a provider status report; the message as it is now when it changed."""
        ...

    async def apply_statuses(self, reports: Sequence[StatusReport]) -> list[Message | None]:
        """Apply reports as if one by one in order; per report, the message as it is after
        it when it changed it, else None."""
        ...

    async def known_provider_ids(self, channel_id: str, provider_ids: Sequence[str]) -> set[str]:
        """Which of ``provider_ids`` name a message of the channel."""
        ...

    async def stale(self, older_than: datetime, limit: int) -> list[Message]:
        """Pending outbound messages nobody is working on (lease expired or never taken)
        that were last touched before ``older_than``: candidates for republishing."""
        ...


class MessagingUnitOfWork(Protocol):
    messages: MessageRepository
    conversations: ConversationRepository
    contacts: ContactRepository
    events: EventRecorder

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...
