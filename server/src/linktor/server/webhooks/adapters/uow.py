"""The webhooks unit of work: endpoints, deliveries, idempotency keys and the event recorder
(webhook_endpoint.disabled) on one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.events.app.recorder import OutboxEventRecorder
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.idempotency.store import SqlIdempotencyStore
from linktor.server.infra.outbox.writer import OutboxWriter
from linktor.server.shared.clock import Clock
from linktor.server.webhooks.adapters.sql_deliveries import SqlDeliveryRepository
from linktor.server.webhooks.adapters.sql_endpoints import SqlEndpointRepository


class SqlWebhookUnitOfWork(SqlUnitOfWork):
    endpoints: SqlEndpointRepository
    deliveries: SqlDeliveryRepository
    events: OutboxEventRecorder
    _idempotency: SqlIdempotencyStore
    _outbox: OutboxWriter

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        tenant_id: str | None = None,
        privileged: bool = False,
    ) -> None:
        super().__init__(engine, tenant_id=tenant_id, privileged=privileged)
        self._clock = clock

    @property
    def idempotency(self) -> SqlIdempotencyStore:
        return self._idempotency

    def _bind(self, conn: AsyncConnection) -> None:
        self.endpoints = SqlEndpointRepository(conn)
        self.deliveries = SqlDeliveryRepository(conn)
        self._idempotency = SqlIdempotencyStore(conn)
        self._outbox = OutboxWriter(conn)
        self.events = OutboxEventRecorder(self._outbox, self._clock)

    async def commit(self) -> None:
        await self._outbox.flush()
        await super().commit()


class SqlWebhookStore:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def scoped(self, tenant_id: str) -> SqlWebhookUnitOfWork:
        return SqlWebhookUnitOfWork(self._engine, self._clock, tenant_id=tenant_id)

    def privileged(self) -> SqlWebhookUnitOfWork:
        return SqlWebhookUnitOfWork(self._engine, self._clock, privileged=True)
