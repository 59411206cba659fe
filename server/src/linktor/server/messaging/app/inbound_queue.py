"""The inbound work item: what a provider's webhook told us, persisted before we answer it.

The webhook ingress writes the events of authenticated webhook requests to the outbox (group
committed with other concurrent webhooks), so everything acknowledged to the provider
survives a crash; the relay publishes them and inbound workers process them.

Order: the events of one sender on one channel go to one partition,
``linktor.inbound.<channel>.<partition>`` with ``partition = crc32(channel, sender) % N``, and
each partition is consumed in order (one message in flight across all replicas), so separate
webhook calls about one contact are stored in the order Linktor received them, while other
contacts' partitions proceed in parallel. The events of concurrent webhooks for one partition
are merged into one work item (in arrival order) when they are group committed, so ordered
consumption costs one bus message per partition and commit, not one per webhook.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from linktor.adapter.v1 import adapter_pb2
from linktor.server.infra.outbox.writer import OutboxRow
from linktor.server.shared.clock import Clock
from linktor.server.shared.ids import new_id

# Changing it re-maps senders to partitions: messages already queued under the old count may
# then be overtaken once, during the change.
PARTITIONS = 16
# Before partitions, work items were published on linktor.inbound.<channel>; a consumer of
# this pattern drains what such a version left in the stream.
UNPARTITIONED_SUBJECTS = "linktor.inbound.*"
# A merged work item grows to about this size before the next one starts (NATS refuses
# messages over its max_payload, 1 MiB by default).
MAX_MERGED_BYTES = 256 * 1024


def partition_subjects(partition: int) -> str:
    return f"linktor.inbound.*.{partition}"


def inbound_subject(channel_id: str, partition: int) -> str:
    return f"linktor.inbound.{channel_id}.{partition}"


def partition_key(event: adapter_pb2.InboundEvent) -> str:
    """Who an event is about: its sender (messages, typing, receipts); for a status report,
    its recipient, or the message when the provider names none (statuses only move forward,
    their order does not matter)."""
    kind = event.WhichOneof("kind")
    if kind == "message":
        return event.message.sender
    if kind == "typing":
        return event.typing.sender
    if kind == "read":
        return event.read.sender
    if kind == "status":
        return event.status.recipient or event.status.provider_message_id
    return ""


def partition_of(channel_id: str, key: str) -> int:
    # crc32, not hash(): every replica must put a sender in the same partition.
    return zlib.crc32(f"{channel_id}\n{key}".encode()) % PARTITIONS


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


def partitioned(batches: Iterable[InboundBatch]) -> list[tuple[int, InboundBatch]]:
    """The events of ``batches`` as batches per (channel, partition), each keeping the order
    in which the events arrived; retried batches stay apart (their count differs)."""
    merged: dict[tuple[str, str, int, int], list[list[adapter_pb2.InboundEvent]]] = {}
    sizes: dict[tuple[str, str, int, int], int] = {}
    for batch in batches:
        for event in batch.events:
            partition = partition_of(batch.channel_id, partition_key(event))
            key = (batch.tenant_id, batch.channel_id, partition, batch.retries)
            size = event.ByteSize()
            groups = merged.setdefault(key, [[]])
            if groups[-1] and sizes.get(key, 0) + size > MAX_MERGED_BYTES:
                groups.append([])
                sizes[key] = 0
            groups[-1].append(event)
            sizes[key] = sizes.get(key, 0) + size
    return [
        (partition, InboundBatch(tenant, channel, events, retries))
        for (tenant, channel, partition, retries), groups in merged.items()
        for events in groups
    ]


def inbound_rows(batches: Sequence[InboundBatch], clock: Clock) -> list[OutboxRow]:
    """Outbox rows for ``batches`` (in arrival order), merged per partition."""
    now = clock.now()
    return [
        OutboxRow(
            tenant_id=batch.tenant_id,
            subject=inbound_subject(batch.channel_id, partition),
            msg_id=new_id(),
            payload=batch.encode(),
            create_time=now,
        )
        for partition, batch in partitioned(batches)
    ]
