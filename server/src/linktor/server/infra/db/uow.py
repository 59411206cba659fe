"""The SQL unit of work: one transaction, rolled back unless committed.

Each bounded context subclasses it to expose its repositories, bound to the transaction's
connection. On PostgreSQL the tenant of the unit of work is set as a transaction-local
setting (``linktor.tenant_id``) that row-level security policies read, so a query that
forgot its tenant filter sees nothing (defence in depth, see
docs/adr/0006-tenant-isolation-and-authentication.md). A privileged unit of work sets
``linktor.bypass_rls`` instead; only code that must work across tenants constructs one.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.shared.errors import Unavailable

# Exceptions meaning "the database is not reachable", as opposed to a bad query.
_CONNECTION_ERRORS = (OperationalError, InterfaceError, PoolTimeout, OSError, TimeoutError)


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _CONNECTION_ERRORS)


class SqlUnitOfWork:
    """Base unit of work; subclasses bind repositories in :meth:`_bind`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        tenant_id: str | None = None,
        privileged: bool = False,
        read_only: bool = False,
    ) -> None:
        """A unit of work scoped to ``tenant_id`` (RLS shows only that tenant's rows), or,
        with ``privileged=True``, one that sees every tenant (operator APIs, credential
        lookups before the tenant is known, background workers). Neither: no tenant rows."""
        self._engine = engine
        self.tenant_id = tenant_id
        self.privileged = privileged
        # On SQLite a read-only unit of work begins DEFERRED: it takes no write lock, so it
        # never waits for (or blocks) writers (WAL readers see the last committed state).
        self.read_only = read_only
        self._conn: AsyncConnection | None = None
        self._committed = False

    @property
    def connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._conn

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def __aenter__(self) -> Self:
        try:
            self._conn = await self._engine.connect()
            if self.read_only:
                self._conn = await self._conn.execution_options(sqlite_begin="DEFERRED")
            await self._conn.begin()
            if self.dialect == "postgresql" and (self.tenant_id is not None or self.privileged):
                await self._conn.execute(
                    text(
                        "SELECT set_config('linktor.tenant_id', :tenant, true),"
                        " set_config('linktor.bypass_rls', :bypass, true)"
                    ),
                    {"tenant": self.tenant_id or "", "bypass": "on" if self.privileged else ""},
                )
        except BaseException as exc:
            await self._close()
            if is_connection_error(exc):
                raise Unavailable("database unavailable; retry later") from exc
            raise
        self._committed = False
        self._bind(self._conn)
        return self

    def _bind(self, conn: AsyncConnection) -> None:
        """Create the context's repositories on ``conn``."""

    async def commit(self) -> None:
        try:
            await self.connection.commit()
        except BaseException as exc:
            if is_connection_error(exc):
                raise Unavailable("database unavailable; the change was not saved") from exc
            raise
        self._committed = True

    async def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            await self._conn.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.rollback()
        except Exception:  # noqa: S110 - the connection is discarded below anyway
            pass
        finally:
            await self._close()
        if exc is not None and is_connection_error(exc) and not isinstance(exc, Unavailable):
            raise Unavailable("database unavailable; retry later") from exc

    async def _close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # Closing a broken connection may fail; there is nothing left to do then.
            with contextlib.suppress(Exception):
                await conn.close()
