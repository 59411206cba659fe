"""Migrations: the same scripts build the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from lktest.services import create_pg_database, drop_pg_database
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.db import migrate
from linktor.server.infra.db.engine import create_engine
from linktor.server.infra.db.schema import load_all_tables

CORE_TABLES = {
    "tenants",
    "users",
    "memberships",
    "api_keys",
    "channels",
    "contacts",
    "contact_identities",
    "conversations",
    "messages",
    "delivery_attempts",
    "attachments",
    "outbox",
    "idempotency_keys",
    "events",
    "event_sequences",
}


@pytest.fixture
async def fresh_engine(backend: str, tmp_path: Path) -> AsyncEngine:  # type: ignore[misc]
    if backend == "scaled":
        url = await create_pg_database("lk_migr")
        eng = create_engine(url)
        yield eng
        await eng.dispose()
        await drop_pg_database(url)
    else:
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
        yield eng
        await eng.dispose()


async def test_upgrade_creates_core_tables_and_is_idempotent(fresh_engine: AsyncEngine) -> None:
    assert await migrate.current_revision(fresh_engine) is None
    await migrate.upgrade(fresh_engine)
    await migrate.upgrade(fresh_engine)  # a second run changes nothing and does not fail
    assert await migrate.current_revision(fresh_engine) == migrate.head_revision()
    async with fresh_engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert tables >= CORE_TABLES


async def test_migrated_schema_matches_the_table_definitions(fresh_engine: AsyncEngine) -> None:
    """A table definition changed without a migration (or the reverse) fails here."""
    await migrate.upgrade(fresh_engine)
    metadata = load_all_tables()
    async with fresh_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata
            )
        )
    assert diff == []


async def test_downgrade_to_base_and_up_again(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine)
    await migrate.downgrade(fresh_engine, "base")
    async with fresh_engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert not tables & CORE_TABLES
    await migrate.upgrade(fresh_engine)
    assert await migrate.current_revision(fresh_engine) == migrate.head_revision()
