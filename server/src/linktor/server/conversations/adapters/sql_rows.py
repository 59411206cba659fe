"""Reading conversation rows: the channel type and the contact's display name are joined in
on every read (not copied into the row), so renaming a contact shows everywhere at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from linktor.server.channels.adapters.tables import channels
from linktor.server.contacts.adapters.tables import contacts
from linktor.server.conversations.adapters.tables import conversations
from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.shared.channel_types import ChannelType

# The conversation row with what reads join in.
CONVERSATION_COLUMNS = (
    *conversations.c,
    channels.c.type.label("channel_type"),
    contacts.c.display_name.label("contact_display_name"),
)
CONVERSATIONS_JOINED = conversations.join(
    channels, channels.c.id == conversations.c.channel_id
).join(contacts, contacts.c.id == conversations.c.contact_id)


def select_conversations() -> Select[Any]:
    return select(*CONVERSATION_COLUMNS).select_from(CONVERSATIONS_JOINED)


def conversation_from_row(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        channel_type=ChannelType(row.channel_type),
        contact_id=row.contact_id,
        status=ConversationStatus(row.status),
        last_activity_time=row.last_activity_time,
        create_time=row.create_time,
        update_time=row.update_time,
        contact_display_name=row.contact_display_name,
        assignee_user_id=row.assignee_user_id,
        snooze_time=row.snooze_time,
        subject=row.subject,
        tags=tuple(row.tags),
        last_message_preview=row.last_message_preview,
        unread_count=row.unread_count,
        last_inbound_time=row.last_inbound_time,
        reply_window_expire_time=row.reply_window_expire_time,
        resolve_time=row.resolve_time,
        message_seq=row.message_seq,
        version=row.version,
    )
