"""Web chat tests: `linktor serve` on the embedded or the scaled backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from lktest.services import SERVICES, create_pg_database, drop_pg_database, require_service


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
