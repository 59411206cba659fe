"""Shared fixtures: where the real services of `make services` are, and backend selection.

Integration tests run against REAL PostgreSQL, NATS JetStream and Redis (started by
`make services`) and against the embedded backends; a test parametrized with the
``backend`` fixture runs once per backend. A missing service is a failure with a hint,
never a skip: a suite that silently skips its integration tests proves nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest


@dataclass(frozen=True)
class ServiceUrls:
    """Addresses of the services started by `make services` (overridable by LINKTOR_TEST_*)."""

    database_url: str
    pg_admin_url: str
    nats_url: str
    redis_url: str


SERVICES = ServiceUrls(
    database_url=os.environ.get(
        "LINKTOR_TEST_DATABASE_URL",
        "postgresql+asyncpg://linktor:linktor@127.0.0.1:55432/linktor",
    ),
    pg_admin_url=os.environ.get(
        "LINKTOR_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:55432/postgres"
    ),
    nats_url=os.environ.get("LINKTOR_TEST_NATS_URL", "nats://127.0.0.1:54222"),
    redis_url=os.environ.get("LINKTOR_TEST_REDIS_URL", "redis://127.0.0.1:56379/0"),
)


def require_service(url: str, what: str) -> None:
    """Fail (not skip) with a hint when a service of `make services` is not listening."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    assert port is not None, f"{what} URL {url!r} has no port"
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        pytest.fail(f"{what} is not reachable at {host}:{port} ({exc}); run `make services`")


@pytest.fixture(scope="session")
def services() -> ServiceUrls:
    return SERVICES


@pytest.fixture(params=["embedded", "scaled"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Parametrizes a test over the embedded and the scaled backends."""
    if request.param == "scaled":
        request.applymarker(pytest.mark.integration)
    yield str(request.param)
