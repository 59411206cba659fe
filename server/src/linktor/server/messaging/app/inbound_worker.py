"""Inbound workers: process the webhook batches the ingress persisted.

One ordered durable consumer per partition (inbound_queue): a partition has one work item in
flight across all replicas, so one contact's webhooks are stored in arrival order. Work items
of different partitions that are in flight together are stored in one transaction per tenant
(group commit), so the many ordered consumers cost one database round trip per commit rather
than one per work item. A legacy consumer drains unpartitioned items of earlier versions.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from linktor.adapter.v1 import adapter_pb2
from linktor.server.infra.batching import Batcher
from linktor.server.infra.bus.port import Delivery, EventBus, Subscription
from linktor.server.logs import get_logger
from linktor.server.messaging.app.channels import ChannelInfo, ChannelLookup
from linktor.server.messaging.app.inbound_media import InboundMedia
from linktor.server.messaging.app.inbound_queue import (
    PARTITIONS,
    UNPARTITIONED_SUBJECTS,
    InboundBatch,
    inbound_subject,
    partition_subjects,
    partitioned,
)
from linktor.server.messaging.app.receive import ReceiveInbound, ReceiveResult
from linktor.server.shared.ids import new_id

log = get_logger(__name__)

# The durable of the unpartitioned subjects (the name the single consumer always had, so
# that updating it to the narrower pattern lets the partition consumers exist beside it).
DURABLE = "inbound"
# Status reports for messages whose provider id is not recorded yet are retried this often,
# after these delays (the send result usually lands within milliseconds).
UNMATCHED_RETRY_DELAYS = (1.0, 5.0, 30.0)
# Work items stored per transaction at most.
MAX_GROUP = 64


def partition_durable(partition: int) -> str:
    return f"{DURABLE}-p{partition}"


@dataclass(frozen=True)
class _Item:
    channel: ChannelInfo
    batch: InboundBatch


class InboundWorker:
    def __init__(
        self,
        bus: EventBus,
        channels: ChannelLookup,
        receive: ReceiveInbound,
        *,
        concurrency: int = 32,
        media: InboundMedia | None = None,
        partitions: int = PARTITIONS,
    ) -> None:
        self._bus = bus
        # Fetches provider media of stored messages (scheduled before the batch is acked).
        self._media = media
        self._channels = channels
        self._receive = receive
        self._concurrency = concurrency
        self._partitions = partitions
        self._subscriptions: list[Subscription] = []
        self._retries: set[asyncio.Task[None]] = set()
        self._group: Batcher[_Item, ReceiveResult | Exception] = Batcher(
            self._store, max_size=MAX_GROUP
        )

    async def start(self) -> None:
        # The legacy durable first: narrowing its pattern makes room for the partitions'
        # (consumers of a work-queue stream may not overlap).
        self._subscriptions.append(
            await self._bus.consume(
                UNPARTITIONED_SUBJECTS, DURABLE, self.handle, max_in_flight=self._concurrency
            )
        )
        for partition in range(self._partitions):
            self._subscriptions.append(
                await self._bus.consume(
                    partition_subjects(partition),
                    partition_durable(partition),
                    self.handle,
                    max_in_flight=1,  # ordered: one item of the partition out at a time
                )
            )

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self._subscriptions))
        self._subscriptions.clear()
        for task in self._retries:
            task.cancel()

    async def handle(self, delivery: Delivery) -> None:
        batch = InboundBatch.decode(delivery.data)
        channel = await self._channels.get(batch.tenant_id, batch.channel_id)
        if channel is None:
            log.warning("inbound batch for a deleted channel dropped", channel=batch.channel_id)
            await delivery.ack()
            return
        result = await self._group.submit(_Item(channel, batch))
        if isinstance(result, Exception):
            raise result  # nak'd with backoff; an ordered partition waits for it
        if self._media is not None:
            await self._media.schedule(batch.tenant_id, batch.channel_id, batch.events)
        await delivery.ack()
        if result.unmatched:
            self._retry_later(batch, result.unmatched)

    async def _store(self, items: Sequence[_Item]) -> list[ReceiveResult | Exception]:
        """Store ``items`` in one transaction per tenant; when one fails, the others are
        stored one by one, so a poison item delays only itself."""
        by_tenant: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            by_tenant[item.batch.tenant_id].append(index)
        results: list[ReceiveResult | Exception] = [Exception("not stored")] * len(items)

        async def tenant(indexes: list[int]) -> None:
            work = [(items[i].channel, items[i].batch.events) for i in indexes]
            try:
                stored: Sequence[ReceiveResult | Exception] = await self._receive.many(work)
            except Exception:
                if len(work) == 1:
                    raise
                stored = [await self._one(w) for w in work]
            for i, outcome in zip(indexes, stored, strict=True):
                results[i] = outcome

        outcomes = await asyncio.gather(
            *(tenant(indexes) for indexes in by_tenant.values()), return_exceptions=True
        )
        for indexes, outcome in zip(by_tenant.values(), outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                for i in indexes:
                    results[i] = outcome
        return results

    async def _one(
        self, work: tuple[ChannelInfo, Sequence[adapter_pb2.InboundEvent]]
    ) -> ReceiveResult | Exception:
        try:
            (result,) = await self._receive.many([work])
        except Exception as exc:
            return exc
        return result

    def _retry_later(self, batch: InboundBatch, events: Sequence[adapter_pb2.InboundEvent]) -> None:
        if batch.retries >= len(UNMATCHED_RETRY_DELAYS):
            log.warning(
                "status reports for unknown messages dropped",
                channel=batch.channel_id,
                count=len(events),
            )
            return
        retry = InboundBatch(batch.tenant_id, batch.channel_id, list(events), batch.retries + 1)

        async def later() -> None:
            await asyncio.sleep(UNMATCHED_RETRY_DELAYS[batch.retries])
            for partition, part in partitioned([retry]):
                await self._bus.publish(
                    inbound_subject(batch.channel_id, partition), part.encode(), msg_id=new_id()
                )

        task = asyncio.create_task(later())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)
