"""Conversation domain objects <-> linktor.v1 protos."""

from __future__ import annotations

from linktor.server.conversations.app.conversations import ConversationChanges
from linktor.server.conversations.app.ports import ConversationFilter
from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.proto_time import from_timestamp, set_time
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


def status_from_proto(value: int, field_path: str) -> ConversationStatus:
    if value == conversation_pb2.CONVERSATION_STATUS_UNSPECIFIED:
        raise InvalidArgument.for_field(field_path, "must be OPEN, PENDING, RESOLVED or SNOOZED")
    try:
        name = conversation_pb2.ConversationStatus.Name(
            conversation_pb2.ConversationStatus.ValueType(value)
        )
        return ConversationStatus(name.removeprefix("CONVERSATION_STATUS_"))
    except ValueError as exc:
        raise InvalidArgument.for_field(field_path, f"unknown status {value}") from exc


UPDATABLE = ("status", "snooze_time", "subject", "tags")


def changes_from_proto(
    proto: conversation_pb2.Conversation, paths: set[str]
) -> ConversationChanges:
    snooze_time = None
    if "snooze_time" in paths and proto.HasField("snooze_time"):
        snooze_time = from_timestamp(proto.snooze_time)
    return ConversationChanges(
        status=status_from_proto(proto.status, "conversation.status")
        if "status" in paths
        else None,
        snooze_time=snooze_time,
        snooze_time_named="snooze_time" in paths,
        subject=proto.subject if "subject" in paths else None,
        tags=tuple(proto.tags) if "tags" in paths else None,
    )


def id_in_tenant(pattern: names.NamePattern, name: str, tenant_id: str, field_path: str) -> str:
    """The id of the resource ``name`` of ``tenant_id`` (INVALID_ARGUMENT otherwise)."""
    parts = pattern.parse(name, field_path)
    if parts["tenant"] != tenant_id:
        raise InvalidArgument.for_field(field_path, f"must be a resource of tenants/{tenant_id}")
    return parts[pattern.variables[-1]]


def filter_from_proto(
    request: conversation_pb2.ListConversationsRequest, tenant_id: str
) -> ConversationFilter:
    def resource(pattern: names.NamePattern, name: str, field_path: str) -> str | None:
        return id_in_tenant(pattern, name, tenant_id, field_path) if name else None

    return ConversationFilter(
        statuses=frozenset(
            status_from_proto(s, f"statuses[{i}]") for i, s in enumerate(request.statuses)
        ),
        channel_id=resource(names.CHANNEL, request.channel, "channel"),
        assignee_user_id=resource(names.USER, request.assignee, "assignee"),
        unassigned=request.unassigned,
        unread=request.unread,
        contact_id=resource(names.CONTACT, request.contact, "contact"),
        query=request.query,
    )
