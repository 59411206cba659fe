"""Shared fixtures: the real services of `make services`, databases, backend selection.

Integration tests run against REAL PostgreSQL, NATS JetStream and Redis and against the
embedded backends; a test using the ``backend`` fixture runs once per backend. A missing
service is a failure with a hint, never a skip: a suite that silently skips its integration
tests proves nothing. Helpers live in the ``lktest`` package next to this file.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lktest.services import (
    SERVICES,
    ServiceUrls,
    create_pg_database,
    drop_pg_database,
    require_service,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.bus.factory import create_bus
from linktor.server.infra.bus.port import STREAMS, EventBus
from linktor.server.infra.db import migrate
from linktor.server.infra.db.engine import create_engine


@pytest.fixture(scope="session")
def services() -> ServiceUrls:
    return SERVICES


@pytest.fixture(params=["embedded", "scaled"])
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrizes a test over the embedded and the scaled backends."""
    if request.param == "scaled":
        request.applymarker(pytest.mark.integration)
    return str(request.param)


@pytest_asyncio.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A migrated PostgreSQL database shared by the session (tests use unique tenant ids)."""
    url = await create_pg_database()
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    yield url
    await drop_pg_database(url)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of a migrated database of the requested backend (SQLite: migrated by `engine`)."""
    if backend == "scaled":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'linktor.db'}"


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database engine of the requested backend."""
    eng = create_engine(database_url)
    if database_url.startswith("sqlite"):
        await migrate.upgrade(eng)
    yield eng
    await eng.dispose()


@pytest_asyncio.fixture
async def bus(backend: str) -> AsyncIterator[EventBus]:
    """A started bus of the requested backend: in-process, or NATS JetStream with streams
    purged so tests do not see each other's work."""
    if backend == "scaled":
        require_service(SERVICES.nats_url, "NATS")
        import nats

        connection = await nats.connect(SERVICES.nats_url)
        js = connection.jetstream()
        for stream in STREAMS:
            with contextlib.suppress(Exception):
                await js.delete_stream(stream.name)
        await connection.close()
    the_bus = create_bus(SERVICES.nats_url if backend == "scaled" else None)
    await the_bus.start()
    yield the_bus
    await the_bus.close()
