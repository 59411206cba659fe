"""The inbound work item: what a provider's webhook told us, persisted before we answer it.

The webhook ingress writes one outbox row per authenticated webhook request that carried
events (in the same group-committed transaction as other concurrent webhooks), so everything
acknowledged to the provider survives a crash; the relay publishes it on
``linktor.inbound.<channel>`` and inbound workers process it.
"""

from __future__ import annotations

from dataclasses import dataclass

from linktor.adapter.v1 import adapter_pb2
from linktor.server.infra.outbox.writer import OutboxRow
from linktor.server.shared.clock import Clock
from linktor.server.shared.ids import new_id

INBOUND_SUBJECTS = "linktor.inbound.>"


def inbound_subject(channel_id: str) -> str:
    return f"linktor.inbound.{channel_id}"


@dataclass(frozen=True)
class InboundBatch:
    tenant_id: str
    channel_id: str
    events: list[adapter_pb2.InboundEvent]
    # How many times statuses for unknown messages were put back (they may arrive before
    # the send result that records the provider's message id).
    retries: int = 0

    def encode(self) -> bytes:
        envelope = adapter_pb2.HandleWebhookResponse(events=self.events)
        header = f"{self.tenant_id}\n{self.channel_id}\n{self.retries}\n".encode()
        return header + envelope.SerializeToString()

    @classmethod
    def decode(cls, data: bytes) -> InboundBatch:
        tenant_id, channel_id, retries, body = data.split(b"\n", 3)
        envelope = adapter_pb2.HandleWebhookResponse.FromString(body)
        return cls(tenant_id.decode(), channel_id.decode(), list(envelope.events), int(retries))


def inbound_row(batch: InboundBatch, clock: Clock) -> OutboxRow:
    return OutboxRow(
        tenant_id=batch.tenant_id,
        subject=inbound_subject(batch.channel_id),
        msg_id=new_id(),
        payload=batch.encode(),
        create_time=clock.now(),
    )
