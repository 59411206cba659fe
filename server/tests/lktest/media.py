"""Helpers of the media and WhatsApp end-to-end tests: polling and plain HTTP calls."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from lktest.services import SERVICES, create_pg_database, drop_pg_database, require_service

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """The first truthy result of ``check``, polled until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def http(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a GET, or a POST when ``data`` is given."""
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(params=["embedded", "scaled"])
def backend_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """`linktor serve` settings of the embedded backend, or of the scaled one (its own
    PostgreSQL database, the shared NATS and Redis)."""
    if request.param == "embedded":
        yield {}
        return
    require_service(SERVICES.nats_url, "NATS")
    require_service(SERVICES.redis_url, "Redis")
    url = asyncio.run(create_pg_database("lk_media"))
    yield {
        "LINKTOR_DATABASE_URL": url,
        "LINKTOR_NATS_URL": SERVICES.nats_url,
        "LINKTOR_REDIS_URL": SERVICES.redis_url,
        "LINKTOR_MIGRATE_ON_START": "true",
    }
    asyncio.run(drop_pg_database(url))
