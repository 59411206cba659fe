"""Message domain objects <-> linktor.v1 protos."""

from __future__ import annotations

from collections.abc import Sequence

from linktor.server.messaging.domain.errors import DeliveryError
from linktor.server.messaging.domain.message import Attempt, Message
from linktor.server.shared.proto_time import set_time
from linktor.v1 import message_pb2

_OUTCOMES = {
    "SUCCEEDED": message_pb2.ATTEMPT_OUTCOME_SUCCEEDED,
    "RETRYING": message_pb2.ATTEMPT_OUTCOME_RETRYING,
    "FAILED": message_pb2.ATTEMPT_OUTCOME_FAILED,
}


def error_to_proto(error: DeliveryError) -> message_pb2.MessageError:
    return message_pb2.MessageError(
        code=error.code,
        message=error.message,
        retryable=error.retryable,
        provider_code=error.provider_code,
        provider_message=error.provider_message,
    )


def attempt_to_proto(a: Attempt) -> message_pb2.DeliveryAttempt:
    proto = message_pb2.DeliveryAttempt(
        number=a.number,
        outcome=_OUTCOMES.get(a.outcome, message_pb2.ATTEMPT_OUTCOME_UNSPECIFIED),
    )
    set_time(proto.start_time, a.start_time)
    proto.duration.FromMilliseconds(a.duration_ms)
    if a.error is not None:
        proto.error.CopyFrom(error_to_proto(a.error))
    if a.retry_after_ms is not None:
        proto.retry_after.FromMilliseconds(a.retry_after_ms)
    set_time(proto.next_attempt_time, a.next_attempt_time)
    return proto


def message_to_proto(m: Message, attempts: Sequence[Attempt] = ()) -> message_pb2.Message:
    tenant = f"tenants/{m.tenant_id}"
    conversation = f"{tenant}/conversations/{m.conversation_id}"
    proto = message_pb2.Message(
        name=m.name,
        channel=f"{tenant}/channels/{m.channel_id}",
        contact=f"{tenant}/contacts/{m.contact_id}",
        direction=message_pb2.MessageDirection.Value(f"MESSAGE_DIRECTION_{m.direction.value}"),
        sender=message_pb2.Sender(
            type=message_pb2.SenderType.Value(f"SENDER_TYPE_{m.sender.type.value}"),
            name=m.sender.name,
            display_name=m.sender.display_name,
        ),
        content=m.content,
        reply_to=f"{conversation}/messages/{m.reply_to_id}" if m.reply_to_id else "",
        status=message_pb2.MessageStatus.Value(f"MESSAGE_STATUS_{m.status.value}"),
        provider_message_id=m.provider_message_id or "",
        request_id=m.request_id or "",
        metadata=m.metadata,
        attempt_count=m.attempt_count,
        attempts=[attempt_to_proto(a) for a in attempts],
        etag=f'W/"{m.status.value}.{m.attempt_count}"',
    )
    if m.delivered_content is not None:
        proto.delivered_content.CopyFrom(m.delivered_content)
    if m.error is not None:
        proto.error.CopyFrom(error_to_proto(m.error))
    for field, value in (
        ("create_time", m.create_time),
        ("update_time", m.update_time),
        ("send_time", m.send_time),
        ("deliver_time", m.deliver_time),
        ("read_time", m.read_time),
        ("fail_time", m.fail_time),
        ("provider_time", m.provider_time),
    ):
        set_time(getattr(proto, field), value)
    return proto
