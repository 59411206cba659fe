"""Use cases of the delivery log: list and read deliveries with their attempts, replay one
delivery, replay the event log since a time or a sequence, send a test event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, NotFound
from linktor.server.shared.ids import new_id
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal
from linktor.server.webhooks.app.endpoints import load_endpoint
from linktor.server.webhooks.app.fanout import deliveries_for
from linktor.server.webhooks.app.payload import render, webhook_id_for_test
from linktor.server.webhooks.app.ports import EventLog, WebhookStore, WebhookUnitOfWork
from linktor.server.webhooks.domain.delivery import (
    TEST_EVENT_TYPE,
    Attempt,
    Delivery,
    DeliveryState,
)
from linktor.server.webhooks.domain.endpoint import WebhookEndpoint
from linktor.v1 import event_pb2

# Events read from the log per transaction while replaying.
REPLAY_PAGE = 500
# How long a delivery sent inline (test, replay of one delivery) is left to its caller.
INLINE_HOLD = timedelta(seconds=60)


class InlineSender(Protocol):
    async def deliver_now(self, delivery_id: str) -> bool: ...


@dataclass(frozen=True)
class DeliveryRecord:
    """A delivery and its attempts, oldest first."""

    delivery: Delivery
    attempts: list[Attempt]


def _endpoint_name(tenant_id: str, endpoint_id: str) -> str:
    return f"tenants/{tenant_id}/webhookEndpoints/{endpoint_id}"


class DeliveryLog:
    def __init__(
        self,
        store: WebhookStore,
        events: EventLog,
        sender: InlineSender,
        clock: Clock,
        *,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._events = events
        self._sender = sender
        self._clock = clock
        self._on_queued = on_queued

    async def list(
        self,
        principal: Principal,
        tenant_id: str,
        endpoint_id: str,
        *,
        size: int,
        token: str,
        state: DeliveryState | None,
        event_type: str,
    ) -> tuple[list[Delivery], str]:
        tenant_id = principal.own_tenant(tenant_id, _endpoint_name(tenant_id, endpoint_id))
        limit = page_size(size)
        filters = {
            "endpoint": endpoint_id,
            "state": state.value if state else "",
            "event_type": event_type,
        }
        position = PageToken.decode(token, filters)
        async with self._store.scoped(tenant_id) as uow:
            await load_endpoint(uow, tenant_id, endpoint_id)
            found = await uow.deliveries.list(
                tenant_id,
                endpoint_id,
                limit=limit + 1,
                before_id=str(position.last[0]) if position else None,
                state=state,
                event_type=event_type,
            )
        next_token = ""
        if len(found) > limit:
            found = found[:limit]
            next_token = PageToken([found[-1].id], fingerprint(filters)).encode()
        return found, next_token

    async def get(
        self, principal: Principal, tenant_id: str, endpoint_id: str, delivery_id: str
    ) -> DeliveryRecord:
        name = f"{_endpoint_name(tenant_id, endpoint_id)}/deliveries/{delivery_id}"
        tenant_id = principal.own_tenant(tenant_id, name)
        async with self._store.scoped(tenant_id) as uow:
            return await self._record(uow, tenant_id, endpoint_id, delivery_id)

    async def _record(
        self, uow: WebhookUnitOfWork, tenant_id: str, endpoint_id: str, delivery_id: str
    ) -> DeliveryRecord:
        delivery = await uow.deliveries.get(tenant_id, endpoint_id, delivery_id)
        if delivery is None:
            raise NotFound(
                f"{_endpoint_name(tenant_id, endpoint_id)}/deliveries/{delivery_id} not found"
            )
        return DeliveryRecord(delivery, await uow.deliveries.attempts(delivery.id))

    async def _send_now(self, delivery: Delivery) -> DeliveryRecord:
        """Store ``delivery``, make its first attempt now, and return how it went.

        It is stored due a little later, so the background workers leave it to this call; if
        this process dies before the attempt, a worker sends it then."""
        held = replace(delivery, next_attempt_time=self._clock.now() + INLINE_HOLD)
        async with self._store.scoped(delivery.tenant_id) as uow:
            await uow.deliveries.add_many([held])
            await uow.commit()
        await self._sender.deliver_now(delivery.id)
        async with self._store.scoped(delivery.tenant_id) as uow:
            return await self._record(uow, delivery.tenant_id, delivery.endpoint_id, delivery.id)

    async def replay_delivery(
        self, principal: Principal, tenant_id: str, endpoint_id: str, delivery_id: str
    ) -> DeliveryRecord:
        """A new delivery of the same request (same webhook-id and body), attempted now and
        then retried on the endpoint's schedule."""
        name = f"{_endpoint_name(tenant_id, endpoint_id)}/deliveries/{delivery_id}"
        tenant_id = principal.own_tenant(tenant_id, name)
        async with self._store.scoped(tenant_id) as uow:
            endpoint = await load_endpoint(uow, tenant_id, endpoint_id)
            original = await self._record(uow, tenant_id, endpoint_id, delivery_id)
        _require_enabled(endpoint)
        now = self._clock.now()
        again = replace(
            original.delivery,
            id=new_id(),
            state=DeliveryState.PENDING,
            create_time=now,
            attempt_count=0,
            next_attempt_time=now,
            retries=True,
            dedupe_key=None,
        )
        return await self._send_now(again)

    async def test(self, principal: Principal, tenant_id: str, endpoint_id: str) -> DeliveryRecord:
        """A ``webhook.test`` event sent now, once (no retries), even to a disabled endpoint
        (to check it works before enabling it again)."""
        tenant_id = principal.own_tenant(tenant_id, _endpoint_name(tenant_id, endpoint_id))
        async with self._store.scoped(tenant_id) as uow:
            endpoint = await load_endpoint(uow, tenant_id, endpoint_id)
        now = self._clock.now()
        event = event_pb2.Event(type=TEST_EVENT_TYPE)
        event.create_time.FromDatetime(now)
        event.webhook_endpoint.name = endpoint.name
        event.webhook_endpoint.url = endpoint.url
        event.webhook_endpoint.description = endpoint.description
        delivery = Delivery(
            id=new_id(),
            tenant_id=tenant_id,
            endpoint_id=endpoint.id,
            webhook_id=webhook_id_for_test(tenant_id),
            event_type=TEST_EVENT_TYPE,
            event_sequence=0,
            body=render(event),
            state=DeliveryState.PENDING,
            create_time=now,
            next_attempt_time=now,
            retries=False,
        )
        return await self._send_now(delivery)

    async def replay_events(
        self,
        principal: Principal,
        tenant_id: str,
        endpoint_id: str,
        *,
        start_time: datetime | None,
        after_sequence: int,
    ) -> int:
        """Queue a new delivery to the endpoint of every subscribed event of the log created at
        or after ``start_time``, or else with a sequence greater than ``after_sequence``;
        how many were queued. Each keeps its event's webhook-id (receivers deduplicate)."""
        tenant_id = principal.own_tenant(tenant_id, _endpoint_name(tenant_id, endpoint_id))
        if start_time is not None and after_sequence:
            raise InvalidArgument(
                "set start_time or after_sequence, not both",
            )
        if after_sequence < 0:
            raise InvalidArgument.for_field("after_sequence", "must not be negative")
        async with self._store.scoped(tenant_id) as uow:
            endpoint = await load_endpoint(uow, tenant_id, endpoint_id)
        _require_enabled(endpoint)
        after = after_sequence
        if start_time is not None:
            first = await self._events.first_sequence_at(tenant_id, start_time)
            if first is None:
                return 0
            after = first - 1
        queued = 0
        while True:
            page = await self._events.after(tenant_id, after, REPLAY_PAGE)
            deliveries = []
            for logged in page:
                event = event_pb2.Event.FromString(logged.payload)
                deliveries += deliveries_for(
                    tenant_id,
                    event,
                    [endpoint],
                    self._clock,
                    dedupe=False,
                    respect_create_time=False,
                )
            if deliveries:
                async with self._store.scoped(tenant_id) as uow:
                    queued += await uow.deliveries.add_many(deliveries)
                    await uow.commit()
                self._on_queued()
            if len(page) < REPLAY_PAGE:
                return queued
            after = page[-1].sequence


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if endpoint.disabled:
        raise FailedPrecondition(
            f"{endpoint.name} is disabled; enable it (update disabled = false) before replaying"
        )
