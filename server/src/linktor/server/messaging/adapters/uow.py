"""The messaging unit of work: messages plus the contacts and conversations repositories,
idempotency keys, the outbox and the event recorder, all on one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.contacts.adapters.sql import SqlContactRepository
from linktor.server.conversations.adapters.sql import SqlConversationRepository
from linktor.server.events.app.recorder import OutboxEventRecorder
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.idempotency.store import SqlIdempotencyStore
from linktor.server.infra.outbox.writer import OutboxWriter
from linktor.server.messaging.adapters.sql import SqlMessageRepository
from linktor.server.shared.clock import Clock


class SqlMessagingUnitOfWork(SqlUnitOfWork):
    messages: SqlMessageRepository
    conversations: SqlConversationRepository
    contacts: SqlContactRepository
    idempotency: SqlIdempotencyStore
    outbox: OutboxWriter
    events: OutboxEventRecorder

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        tenant_id: str | None = None,
        privileged: bool = False,
        read_only: bool = False,
    ) -> None:
        super().__init__(engine, tenant_id=tenant_id, privileged=privileged, read_only=read_only)
        self._clock = clock

    def _bind(self, conn: AsyncConnection) -> None:
        self.messages = SqlMessageRepository(conn)
        self.conversations = SqlConversationRepository(conn)
        self.contacts = SqlContactRepository(conn)
        self.idempotency = SqlIdempotencyStore(conn)
        self.outbox = OutboxWriter(conn)
        self.events = OutboxEventRecorder(self.outbox, self._clock)

    async def commit(self) -> None:
        await self.outbox.flush()
        await super().commit()
