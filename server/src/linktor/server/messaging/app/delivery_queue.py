"""The delivery work item: what the outbox relay puts on the bus for a delivery worker.

Subjects are ``linktor.outbound.<channel>``; the payload only names the message (the worker
claims it from the database, which is the source of truth); the bus msg_id is the message id,
so a republished work item within the duplicate window is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from linktor.server.infra.outbox.writer import OutboxRow
from linktor.server.messaging.domain.message import Message

OUTBOUND_SUBJECTS = "linktor.outbound.>"


def outbound_subject(channel_id: str) -> str:
    return f"linktor.outbound.{channel_id}"


@dataclass(frozen=True)
class WorkItem:
    tenant_id: str
    message_id: str
    channel_id: str

    def encode(self) -> bytes:
        return json.dumps(
            {"t": self.tenant_id, "m": self.message_id, "c": self.channel_id}
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> WorkItem:
        raw = json.loads(data)
        return cls(str(raw["t"]), str(raw["m"]), str(raw["c"]))


def work_item(message: Message) -> WorkItem:
    return WorkItem(message.tenant_id, message.id, message.channel_id)


def delivery_row(message: Message) -> OutboxRow:
    return OutboxRow(
        tenant_id=message.tenant_id,
        subject=outbound_subject(message.channel_id),
        msg_id=message.id,
        payload=work_item(message).encode(),
        create_time=message.create_time,
    )
