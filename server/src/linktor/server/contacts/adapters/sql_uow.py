"""The SQL unit of work of the contacts use cases: contacts plus what a merge or a delete
touches (conversations, their messages), idempotency keys and events, in one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.contacts.adapters.sql import SqlContactRepository
from linktor.server.conversations.adapters.sql_uow import (
    RecorderFactory,
    SqlConversationsUnitOfWork,
    no_events,
)
from linktor.server.infra.idempotency.store import SqlIdempotencyStore


class SqlContactsUnitOfWork(SqlConversationsUnitOfWork):
    contacts: SqlContactRepository
    idempotency: SqlIdempotencyStore

    def _bind(self, conn: AsyncConnection) -> None:
        super()._bind(conn)
        self.contacts = SqlContactRepository(conn)
        self.idempotency = SqlIdempotencyStore(conn)


class SqlContactsStore:
    def __init__(self, engine: AsyncEngine, recorder: RecorderFactory = no_events) -> None:
        self._engine = engine
        self._recorder = recorder

    def scoped(self, tenant_id: str) -> SqlContactsUnitOfWork:
        return SqlContactsUnitOfWork(self._engine, tenant_id=tenant_id, recorder=self._recorder)
