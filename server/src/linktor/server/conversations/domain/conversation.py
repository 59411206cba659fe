"""The Conversation entity: one per (channel, contact); the agent workflow lives here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument

PREVIEW_LENGTH = 200


class ConversationStatus(StrEnum):
    OPEN = "OPEN"
    PENDING = "PENDING"
    RESOLVED = "RESOLVED"
    SNOOZED = "SNOOZED"


def preview(text: str) -> str:
    """The one-line preview of a message shown in conversation lists."""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_LENGTH else flat[: PREVIEW_LENGTH - 1] + "…"


@dataclass(frozen=True)
class Conversation:
    id: str
    tenant_id: str
    channel_id: str
    channel_type: ChannelType
    contact_id: str
    status: ConversationStatus
    last_activity_time: datetime
    create_time: datetime
    update_time: datetime
    contact_display_name: str = ""
    assignee_user_id: str | None = None
    snooze_time: datetime | None = None
    subject: str = ""
    tags: tuple[str, ...] = ()
    last_message_preview: str = ""
    unread_count: int = 0
    last_inbound_time: datetime | None = None
    reply_window_expire_time: datetime | None = None
    resolve_time: datetime | None = None
    # Number of messages ever stored; the next message gets message_seq + 1. Orders the
    # messages of the conversation (acceptance order for outbound delivery).
    message_seq: int = 0
    version: int = 1

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/conversations/{self.id}"

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @classmethod
    def start(
        cls,
        conversation_id: str,
        tenant_id: str,
        channel_id: str,
        channel_type: ChannelType,
        contact_id: str,
        now: datetime,
        contact_display_name: str = "",
    ) -> Conversation:
        return cls(
            id=conversation_id,
            tenant_id=tenant_id,
            channel_id=channel_id,
            channel_type=channel_type,
            contact_id=contact_id,
            status=ConversationStatus.OPEN,
            last_activity_time=now,
            create_time=now,
            update_time=now,
            contact_display_name=contact_display_name,
        )

    def reply_window_open(self, now: datetime) -> bool:
        """Whether free-form content may be sent now (channels with a reply window)."""
        return self.reply_window_expire_time is not None and now < self.reply_window_expire_time

    def record_outbound(self, text: str, now: datetime) -> tuple[Conversation, int]:
        """A message to the contact was accepted: returns the conversation and its sequence."""
        seq = self.message_seq + 1
        updated = replace(
            self,
            message_seq=seq,
            last_activity_time=max(now, self.last_activity_time),
            last_message_preview=preview(text),
            update_time=now,
        )
        return updated, seq

    def record_inbound(
        self, text: str, now: datetime, reply_window: timedelta | None
    ) -> tuple[Conversation, int]:
        """The contact wrote: unread count, activity, reply window; a resolved or snoozed
        conversation reopens."""
        seq = self.message_seq + 1
        reopen = self.status in (ConversationStatus.RESOLVED, ConversationStatus.SNOOZED)
        updated = replace(
            self,
            message_seq=seq,
            status=ConversationStatus.OPEN if reopen else self.status,
            snooze_time=None if reopen else self.snooze_time,
            unread_count=self.unread_count + 1,
            last_activity_time=max(now, self.last_activity_time),
            last_message_preview=preview(text),
            last_inbound_time=now,
            reply_window_expire_time=(now + reply_window) if reply_window else None,
            update_time=now,
        )
        return updated, seq

    def resolve(self, now: datetime) -> Conversation:
        if self.status is ConversationStatus.RESOLVED:
            raise FailedPrecondition(f"{self.name} is already resolved")
        return replace(
            self,
            status=ConversationStatus.RESOLVED,
            snooze_time=None,
            resolve_time=now,
            update_time=now,
        )

    def reopen(self, now: datetime) -> Conversation:
        if self.status is ConversationStatus.OPEN:
            raise FailedPrecondition(f"{self.name} is already open")
        return replace(self, status=ConversationStatus.OPEN, snooze_time=None, update_time=now)

    def snooze(self, until: datetime, now: datetime) -> Conversation:
        if until <= now:
            raise InvalidArgument.for_field("snooze_time", "must be in the future")
        return replace(self, status=ConversationStatus.SNOOZED, snooze_time=until, update_time=now)

    def wake_if_due(self, now: datetime) -> Conversation | None:
        """The reopened conversation when its snooze is over, else None."""
        if (
            self.status is ConversationStatus.SNOOZED
            and self.snooze_time
            and self.snooze_time <= now
        ):
            return replace(self, status=ConversationStatus.OPEN, snooze_time=None, update_time=now)
        return None

    def assign(self, user_id: str | None, now: datetime) -> Conversation:
        return replace(self, assignee_user_id=user_id, update_time=now)

    def mark_read(self, now: datetime) -> Conversation:
        return replace(self, unread_count=0, update_time=now)
