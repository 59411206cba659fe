"""Conversation domain objects <-> linktor.v1 protos."""

from __future__ import annotations

from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.shared.proto_time import set_time
from linktor.v1 import common_pb2, conversation_pb2


def conversation_to_proto(c: Conversation) -> conversation_pb2.Conversation:
    tenant = f"tenants/{c.tenant_id}"
    proto = conversation_pb2.Conversation(
        name=c.name,
        channel=f"{tenant}/channels/{c.channel_id}",
        channel_type=common_pb2.ChannelType.Value(f"CHANNEL_TYPE_{c.channel_type.value}"),
        contact=f"{tenant}/contacts/{c.contact_id}",
        contact_display_name=c.contact_display_name,
        status=conversation_pb2.ConversationStatus.Value(f"CONVERSATION_STATUS_{c.status.value}"),
        assignee=f"{tenant}/users/{c.assignee_user_id}" if c.assignee_user_id else "",
        subject=c.subject,
        tags=list(c.tags),
        last_message_preview=c.last_message_preview,
        unread_count=c.unread_count,
        etag=c.etag,
    )
    set_time(proto.snooze_time, c.snooze_time)
    set_time(proto.last_activity_time, c.last_activity_time)
    set_time(proto.reply_window_expire_time, c.reply_window_expire_time)
    set_time(proto.create_time, c.create_time)
    set_time(proto.update_time, c.update_time)
    set_time(proto.resolve_time, c.resolve_time)
    return proto
