"""Web chat tests on the embedded or the scaled backends: `linktor serve` as a subprocess
(``serve_env``), or the same Platform in this process (``site``) for tests that reach inside."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from lktest.seed import seed_tenant
from lktest.services import SERVICES, create_pg_database, drop_pg_database, require_service
from lktest.webchat_site import WebchatSite

from linktor.server.config import load_settings
from linktor.server.runtime import Platform


@pytest.fixture
def serve_env(backend: str) -> Iterator[dict[str, str]]:
    """Environment of a `linktor serve` on ``backend`` (a fresh PostgreSQL database)."""
    if backend == "embedded":
        yield {}
        return
    require_service(SERVICES.nats_url, "NATS")
    require_service(SERVICES.redis_url, "Redis")
    url = asyncio.run(create_pg_database("lk_wc"))
    try:
        yield {
            "LINKTOR_DATABASE_URL": url,
            "LINKTOR_NATS_URL": SERVICES.nats_url,
            "LINKTOR_REDIS_URL": SERVICES.redis_url,
            "LINKTOR_MIGRATE_ON_START": "true",
        }
    finally:
        asyncio.run(drop_pg_database(url))


@pytest_asyncio.fixture
async def site(backend: str, database_url: str, tmp_path: Path) -> AsyncIterator[WebchatSite]:
    overrides: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "grpc_addr": "127.0.0.1:0",
        "http_addr": "127.0.0.1:0",
        "database_url": database_url,
        "log_level": "warning",
    }
    if backend == "scaled":
        overrides.update(
            nats_url=SERVICES.nats_url, redis_url=SERVICES.redis_url, migrate_on_start=False
        )
    else:
        overrides["migrate_on_start"] = True
    platform = Platform(load_settings(**overrides))
    await platform.start()
    try:
        assert platform.container is not None
        tenant_id = await seed_tenant(platform.container.engine)
        site = WebchatSite(platform, tenant_id, "", "")
        site.channel_id, site.key = await site.add_channel()
        yield site
    finally:
        await platform.stop()
