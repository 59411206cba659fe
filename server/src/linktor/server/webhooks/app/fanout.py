"""The fan-out: every stored event becomes a delivery per subscribed endpoint, persisted
before any attempt.

A durable consumer of the event stream (``linktor.events.<tenant>``, JetStream LINKTOR_EVENTS)
stores, for each event and each enabled endpoint of its tenant whose patterns match it, a
PENDING delivery; only then is the bus message acknowledged. A message delivered again (a crash
before the ack, a redelivery) makes no second delivery: a delivery is unique per endpoint and
event sequence. Events from before an endpoint existed are not sent to it (a new consumer
starts at the beginning of the stream); ReplayWebhookEvents sends older ones on request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from google.protobuf.message import DecodeError

from linktor.server.events.domain.types import EVENTS_SUBJECT_PREFIX
from linktor.server.infra.batching import Batcher
from linktor.server.infra.bus.port import Delivery as BusMessage
from linktor.server.infra.bus.port import EventBus, Subscription
from linktor.server.logs import get_logger
from linktor.server.shared.clock import Clock
from linktor.server.shared.ids import new_id
from linktor.server.webhooks.app.payload import render, webhook_id_of
from linktor.server.webhooks.app.ports import WebhookStore
from linktor.server.webhooks.domain.delivery import Delivery, DeliveryState
from linktor.server.webhooks.domain.endpoint import WebhookEndpoint
from linktor.v1 import event_pb2

log = get_logger(__name__)

DURABLE = "webhooks"
EVENT_SUBJECTS = EVENTS_SUBJECT_PREFIX + ">"


@dataclass(frozen=True)
class TenantEvent:
    tenant_id: str
    event: event_pb2.Event


def deliveries_for(
    tenant_id: str,
    event: event_pb2.Event,
    endpoints: Sequence[WebhookEndpoint],
    clock: Clock,
    *,
    dedupe: bool,
    respect_create_time: bool,
) -> list[Delivery]:
    """A PENDING delivery, due now, of ``event`` to each endpoint subscribed to it."""
    chosen = [
        e
        for e in endpoints
        if e.tenant_id == tenant_id
        and e.subscribes_to(event.type)
        and (not respect_create_time or event.create_time.ToDatetime(tzinfo=UTC) >= e.create_time)
    ]
    if not chosen:
        return []
    body = render(event)
    now = clock.now()
    return [
        Delivery(
            id=new_id(),
            tenant_id=tenant_id,
            endpoint_id=endpoint.id,
            webhook_id=webhook_id_of(tenant_id, event.sequence),
            event_type=event.type,
            event_sequence=event.sequence,
            body=body,
            state=DeliveryState.PENDING,
            create_time=now,
            next_attempt_time=now,
            dedupe_key=str(event.sequence) if dedupe else None,
        )
        for endpoint in chosen
    ]


class FanOut:
    def __init__(
        self,
        bus: EventBus,
        store: WebhookStore,
        clock: Clock,
        *,
        on_queued: Callable[[], None] = lambda: None,
        max_in_flight: int = 256,
        durable: str = DURABLE,
    ) -> None:
        self._bus = bus
        self._store = store
        self._clock = clock
        # Deliveries were stored: the workers should claim now.
        self._on_queued = on_queued
        self._max_in_flight = max_in_flight
        # Replicas of one installation share it (each event fans out once); installations
        # sharing a bus (test suites) need their own.
        self._durable = durable
        self._batches: Batcher[TenantEvent, None] = Batcher(self._store_batch)
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._bus.consume(
            EVENT_SUBJECTS,
            self._durable,
            self.handle,
            max_in_flight=self._max_in_flight,
            ack_wait_seconds=60,
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()

    async def handle(self, message: BusMessage) -> None:
        """Store the event's deliveries; returning acknowledges the message, raising (the
        database is down ...) has it delivered again."""
        tenant_id = message.subject.removeprefix(EVENTS_SUBJECT_PREFIX)
        try:
            event = event_pb2.Event.FromString(message.data)
        except DecodeError:
            log.error("undecodable event on the bus; skipped", subject=message.subject)
            return
        if event.ephemeral or event.sequence <= 0:
            return
        await self._batches.submit(TenantEvent(tenant_id, event))

    async def _store_batch(self, items: Sequence[TenantEvent]) -> list[None]:
        tenants = sorted({item.tenant_id for item in items})
        async with self._store.privileged() as uow:
            endpoints = await uow.endpoints.enabled_of(tenants)
            deliveries = [
                delivery
                for item in items
                for delivery in deliveries_for(
                    item.tenant_id,
                    item.event,
                    endpoints,
                    self._clock,
                    dedupe=True,
                    respect_create_time=True,
                )
            ]
            stored = await uow.deliveries.add_many(deliveries) if deliveries else 0
            await uow.commit()
        if stored:
            self._on_queued()
        return [None] * len(items)
