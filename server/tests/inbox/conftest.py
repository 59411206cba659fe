"""Fixtures of the contacts and conversations tests, on the backend under test: a seeded
tenant with channels (repository tests), and the services behind a real gRPC server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from lktest.inbox import InboxServer, start_inbox_server
from lktest.seed import seed_channel, seed_tenant
from lktest.services import ServiceUrls
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.cache.factory import create_rate_limiter
from linktor.server.shared.channel_types import ChannelType


@dataclass(frozen=True)
class Seeded:
    tenant_id: str
    whatsapp: str
    telegram: str


@pytest_asyncio.fixture
async def seeded(engine: AsyncEngine) -> Seeded:
    tenant_id = await seed_tenant(engine)
    return Seeded(
        tenant_id,
        await seed_channel(engine, tenant_id, ChannelType.WHATSAPP),
        await seed_channel(engine, tenant_id, ChannelType.TELEGRAM),
    )


@pytest_asyncio.fixture
async def inbox(
    backend: str, engine: AsyncEngine, services: ServiceUrls, tmp_path: Path
) -> AsyncIterator[InboxServer]:
    """The contacts and conversations services behind the real server and authentication
    (SQLite + in-memory limits, or PostgreSQL + Redis), with a fake clock."""
    limiter = create_rate_limiter(services.redis_url if backend == "scaled" else None)
    async with start_inbox_server(engine, tmp_path, limiter) as server:
        yield server
    close = getattr(limiter, "close", None)
    if close is not None:
        await close()
