"""The Message entity: canonical content plus its delivery state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from linktor.server.messaging.domain.errors import DeliveryError
from linktor.server.messaging.domain.status import PENDING, Direction, MessageStatus, SenderType
from linktor.v1 import content_pb2


@dataclass(frozen=True)
class Sender:
    type: SenderType
    name: str = ""
    display_name: str = ""


@dataclass(frozen=True)
class Message:
    id: str
    tenant_id: str
    conversation_id: str
    channel_id: str
    contact_id: str
    seq: int
    direction: Direction
    sender: Sender
    content: content_pb2.MessageContent
    status: MessageStatus
    create_time: datetime
    update_time: datetime
    address: str = ""
    body_text: str = ""
    delivered_content: content_pb2.MessageContent | None = None
    reply_to_id: str | None = None
    error: DeliveryError | None = None
    provider_message_id: str | None = None
    request_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    attempt_count: int = 0
    next_attempt_time: datetime | None = None
    send_time: datetime | None = None
    deliver_time: datetime | None = None
    read_time: datetime | None = None
    fail_time: datetime | None = None
    provider_time: datetime | None = None

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/conversations/{self.conversation_id}/messages/{self.id}"

    @property
    def pending(self) -> bool:
        return self.status in PENDING


@dataclass(frozen=True)
class Attempt:
    """One call of the channel's adapter for a message (linktor.v1.DeliveryAttempt)."""

    message_id: str
    number: int
    start_time: datetime
    duration_ms: int
    outcome: str  # SUCCEEDED, RETRYING or FAILED
    error: DeliveryError | None = None
    retry_after_ms: int | None = None
    next_attempt_time: datetime | None = None
