"""Fixtures of the channels tests: ChannelService behind the real gRPC server and
authentication, on the backend under test, with in-process fake adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from lktest.channels import ChannelServer, start_channel_server
from lktest.identity import settings_for
from lktest.services import ServiceUrls
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.cache.factory import create_rate_limiter

PUBLIC_URL = "https://linktor.example.com"


@pytest_asyncio.fixture
async def chs(
    backend: str, engine: AsyncEngine, services: ServiceUrls, tmp_path: Path
) -> AsyncIterator[ChannelServer]:
    limiter = create_rate_limiter(services.redis_url if backend == "scaled" else None)
    settings = settings_for(tmp_path, public_url=PUBLIC_URL)
    async with start_channel_server(engine, settings, limiter) as server:
        yield server
    close = getattr(limiter, "close", None)
    if close is not None:
        await close()
