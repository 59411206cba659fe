"""Fixtures of the identity tests: a real gRPC server with the identity context on the
backend under test (SQLite + in-memory limits, or PostgreSQL + Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from lktest.identity import IdentityServer, settings_for, start_identity_server
from lktest.services import ServiceUrls
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.cache.factory import create_rate_limiter


@pytest_asyncio.fixture
async def ids(
    backend: str, engine: AsyncEngine, services: ServiceUrls, tmp_path: Path
) -> AsyncIterator[IdentityServer]:
    limiter = create_rate_limiter(services.redis_url if backend == "scaled" else None)
    async with start_identity_server(engine, settings_for(tmp_path), limiter) as server:
        yield server
    close = getattr(limiter, "close", None)
    if close is not None:
        await close()
