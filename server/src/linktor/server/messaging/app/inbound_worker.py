"""Inbound workers: process the webhook batches the ingress persisted."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from linktor.adapter.v1 import adapter_pb2
from linktor.server.infra.bus.port import Delivery, EventBus, Subscription
from linktor.server.logs import get_logger
from linktor.server.messaging.app.channels import ChannelLookup
from linktor.server.messaging.app.inbound_media import InboundMedia
from linktor.server.messaging.app.inbound_queue import (
    INBOUND_SUBJECTS,
    InboundBatch,
    inbound_subject,
)
from linktor.server.messaging.app.receive import ReceiveInbound
from linktor.server.shared.ids import new_id

log = get_logger(__name__)

DURABLE = "inbound"
# Status reports for messages whose provider id is not recorded yet are retried this often,
# after these delays (the send result usually lands within milliseconds).
UNMATCHED_RETRY_DELAYS = (1.0, 5.0, 30.0)


class InboundWorker:
    def __init__(
        self,
        bus: EventBus,
        channels: ChannelLookup,
        receive: ReceiveInbound,
        *,
        concurrency: int = 32,
        media: InboundMedia | None = None,
    ) -> None:
        self._bus = bus
        # Fetches provider media of stored messages (scheduled before the batch is acked).
        self._media = media
        self._channels = channels
        self._receive = receive
        self._concurrency = concurrency
        self._subscription: Subscription | None = None
        self._retries: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._subscription = await self._bus.consume(
            INBOUND_SUBJECTS, DURABLE, self.handle, max_in_flight=self._concurrency
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
        for task in self._retries:
            task.cancel()

    async def handle(self, delivery: Delivery) -> None:
        batch = InboundBatch.decode(delivery.data)
        channel = await self._channels.get(batch.tenant_id, batch.channel_id)
        if channel is None:
            log.warning("inbound batch for a deleted channel dropped", channel=batch.channel_id)
            await delivery.ack()
            return
        result = await self._receive(channel, batch.events)
        if self._media is not None:
            await self._media.schedule(batch.tenant_id, batch.channel_id, batch.events)
        await delivery.ack()
        if result.unmatched:
            self._retry_later(batch, result.unmatched)

    def _retry_later(self, batch: InboundBatch, events: Sequence[adapter_pb2.InboundEvent]) -> None:
        if batch.retries >= len(UNMATCHED_RETRY_DELAYS):
            log.warning(
                "status reports for unknown messages dropped",
                channel=batch.channel_id,
                count=len(events),
            )
            return
        retry = InboundBatch(
            batch.tenant_id,
            batch.channel_id,
            list(events),
            batch.retries + 1,
        )

        async def later() -> None:
            await asyncio.sleep(UNMATCHED_RETRY_DELAYS[batch.retries])
            await self._bus.publish(
                inbound_subject(batch.channel_id), retry.encode(), msg_id=new_id()
            )

        task = asyncio.create_task(later())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)
