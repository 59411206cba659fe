"""The SQL unit of work of the conversations and contacts use cases.

Domain events go through the outbox of the same transaction: the unit of work owns an
OutboxWriter, hands it to the configured recorder factory and flushes it right before
committing. Until the event log is wired (bootstrap), events are dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.conversations.adapters.sql import SqlConversationRepository
from linktor.server.conversations.adapters.sql_messages import SqlConversationMessages
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.writer import OutboxWriter
from linktor.server.shared.domain_events import EventRecorder, NoEventRecorder

# Builds the recorder of one unit of work on its outbox.
RecorderFactory = Callable[[OutboxWriter], EventRecorder]


def no_events(_outbox: OutboxWriter) -> EventRecorder:
    return NoEventRecorder()


class SqlConversationsUnitOfWork(SqlUnitOfWork):
    conversations: SqlConversationRepository
    messages: SqlConversationMessages
    events: EventRecorder
    outbox: OutboxWriter

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        tenant_id: str | None = None,
        privileged: bool = False,
        recorder: RecorderFactory = no_events,
    ) -> None:
        super().__init__(engine, tenant_id=tenant_id, privileged=privileged)
        self._recorder = recorder

    def _bind(self, conn: AsyncConnection) -> None:
        self.conversations = SqlConversationRepository(conn)
        self.messages = SqlConversationMessages(conn)
        self.outbox = OutboxWriter(conn)
        self.events = self._recorder(self.outbox)

    async def commit(self) -> None:
        await self.outbox.flush()
        await super().commit()


class SqlConversationsStore:
    def __init__(self, engine: AsyncEngine, recorder: RecorderFactory = no_events) -> None:
        self._engine = engine
        self._recorder = recorder

    def scoped(self, tenant_id: str) -> SqlConversationsUnitOfWork:
        return SqlConversationsUnitOfWork(
            self._engine, tenant_id=tenant_id, recorder=self._recorder
        )

    def privileged(self) -> SqlConversationsUnitOfWork:
        return SqlConversationsUnitOfWork(self._engine, privileged=True, recorder=self._recorder)
