"""Numbering events per tenant as the outbox relay moves them into the event log.

Sequences are assigned by the (single) relay leader in outbox order, inside the transaction
that deletes the outbox rows, so every stored event has exactly one number, numbers have no
gaps, and an event is never numbered twice. The write path of a use case never touches the
per-tenant counter, so busy tenants do not serialize their writes on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.events.adapters.sql import SqlEventLog, StoredEvent
from linktor.server.events.domain.types import events_subject, live_subject
from linktor.server.infra.outbox.relay import OutboxRecord, Publication
from linktor.v1 import event_pb2


def subject_name_of(event: event_pb2.Event) -> str:
    """The resource an event is about, for per-conversation filters: messages and
    conversations are about their conversation, contacts about themselves."""
    which = event.WhichOneof("payload")
    if which == "message":
        return event.message.name.split("/messages/")[0]
    if which == "conversation":
        return event.conversation.name
    if which == "contact":
        return event.contact.name
    if which == "contact_merged":
        return event.contact_merged.contact.name
    if which == "read_receipt":
        return event.read_receipt.conversation
    if which == "deleted":
        return event.deleted.name
    return ""


@dataclass(frozen=True)
class SequencedBatch:
    publications: list[Publication]
    keys: list[tuple[str, int]]


class EventSequencer:
    """The relay's hook for event rows (``linktor.events.<tenant>`` subjects)."""

    async def sequence(self, conn: AsyncConnection, rows: Sequence[OutboxRecord]) -> SequencedBatch:
        log = SqlEventLog(conn)
        by_tenant: dict[str, list[OutboxRecord]] = defaultdict(list)
        for row in rows:
            by_tenant[row.tenant_id].append(row)
        publications: list[Publication] = []
        keys: list[tuple[str, int]] = []
        for tenant_id, tenant_rows in by_tenant.items():
            first = await log.allocate(tenant_id, len(tenant_rows))
            stored: list[StoredEvent] = []
            names: list[str] = []
            for offset, row in enumerate(tenant_rows):
                event = event_pb2.Event.FromString(row.payload)
                event.sequence = first + offset
                event.name = f"tenants/{tenant_id}/events/{event.sequence}"
                payload = event.SerializeToString()
                stored.append(
                    StoredEvent(
                        tenant_id,
                        event.sequence,
                        event.type,
                        payload,
                        event.create_time.ToDatetime(tzinfo=row.create_time.tzinfo),
                    )
                )
                names.append(subject_name_of(event))
                msg_id = f"{tenant_id}.{event.sequence}"
                publications.append(Publication(events_subject(tenant_id), payload, msg_id))
                publications.append(
                    Publication(live_subject(tenant_id), payload, None, durable=False)
                )
                keys.append((tenant_id, event.sequence))
            await log.append(stored, names)
        return SequencedBatch(publications, keys)
