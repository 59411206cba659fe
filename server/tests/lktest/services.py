"""Where the real services of `make services` are (overridable by LINKTOR_TEST_*)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import pytest


@dataclass(frozen=True)
class ServiceUrls:
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


def unique_id(prefix: str = "t") -> str:
    """A tenant-id-shaped unique string, for isolating tests that share a database."""
    return f"{prefix}{uuid.uuid4().hex[:16]}"


async def create_pg_database(
    prefix: str = "lk_test", *, admin_url: str = "", database_url: str = ""
) -> str:
    """Create an empty PostgreSQL database owned by the `linktor` role; return its URL.
    The server is that of `make services` unless ``admin_url``/``database_url`` name another."""
    admin_url = admin_url or SERVICES.pg_admin_url
    require_service(admin_url, "PostgreSQL")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" OWNER linktor')
    finally:
        await admin.close()
    return f"{(database_url or SERVICES.database_url).rsplit('/', 1)[0]}/{name}"


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(SERVICES.pg_admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
