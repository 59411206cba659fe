"""Fixtures for the bus, rate limiter and cache tests: one started instance per backend.

Every test gets streams, subjects and keys of its own (a random prefix), and the scaled
fixtures delete what they created, so tests are isolated and can be rerun against the same
services.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import nats
import pytest
import pytest_asyncio
from infra.support import BusFactory, LimiterFactory, StreamSet
from lktest.services import SERVICES, free_port, require_service
from redis.asyncio import Redis

from linktor.server.infra.bus.inprocess import InProcessBus
from linktor.server.infra.bus.nats import NatsJetStreamBus
from linktor.server.infra.bus.port import BusError, EventBus, StreamSpec
from linktor.server.infra.cache.memory import MemoryCache, MemoryRateLimiter
from linktor.server.infra.cache.port import Cache, RateLimiter
from linktor.server.infra.cache.redis import RedisCache, RedisRateLimiter

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark at collection time (so `-m unit` / `-m integration` select correctly): a test of
    this folder run on the embedded backend only is `unit`, on the scaled one `integration`."""
    for item in items:
        if _HERE not in Path(str(item.path)).parents:
            continue
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if backend == "scaled" or item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)
        elif backend == "embedded" or item.get_closest_marker("unit") is None:
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def streams() -> StreamSet:
    return StreamSet(f"t{uuid.uuid4().hex[:10]}")


@pytest_asyncio.fixture
async def make_bus(backend: str, streams: StreamSet) -> AsyncIterator[BusFactory]:
    """Creates started buses of the test's backend on the test's streams; closes them after.

    The embedded bus lives in one object, so "another replica" only exists when scaled.
    """
    created: list[EventBus] = []

    async def make(**options: object) -> EventBus:
        bus: EventBus
        if backend == "scaled":
            require_service(SERVICES.nats_url, "NATS")
            bus = NatsJetStreamBus(SERVICES.nats_url, streams=streams.specs, **options)  # type: ignore[arg-type]
        else:
            bus = InProcessBus(streams=streams.specs, **options)  # type: ignore[arg-type]
        await bus.start()
        created.append(bus)
        return bus

    yield make
    for bus in created:
        await bus.close()
    if backend == "scaled":
        await delete_streams(streams.specs)


@pytest_asyncio.fixture
async def bus(make_bus: BusFactory) -> EventBus:
    return await make_bus()


async def delete_streams(specs: tuple[StreamSpec, ...]) -> None:
    nc = await nats.connect(SERVICES.nats_url, connect_timeout=2, max_reconnect_attempts=5)
    try:
        jsm = nc.jsm()
        for spec in specs:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await jsm.delete_stream(spec.name)
    finally:
        await nc.close()


@pytest_asyncio.fixture
async def unreachable_bus(backend: str, streams: StreamSet) -> EventBus:
    """A bus whose server is down: a closed port (scaled), a closed bus (embedded)."""
    if backend == "scaled":
        nats_bus = NatsJetStreamBus(
            f"nats://127.0.0.1:{free_port()}", streams=streams.specs, connect_timeout_seconds=1
        )
        with pytest.raises(BusError, match="cannot connect to NATS"):
            await nats_bus.start()
        return nats_bus
    memory_bus = InProcessBus(streams=streams.specs)
    await memory_bus.start()
    await memory_bus.close()
    return memory_bus


# ---------------------------------------------------------------------- rate limiter and cache


@pytest.fixture
def key_prefix() -> str:
    return f"lktest:{uuid.uuid4().hex[:10]}:"


@pytest_asyncio.fixture
async def make_limiter(backend: str, key_prefix: str) -> AsyncIterator[LimiterFactory]:
    """Rate limiters of the test's backend; scaled ones share the test's key prefix."""
    created: list[RateLimiter] = []

    def make() -> RateLimiter:
        limiter: RateLimiter
        if backend == "scaled":
            require_service(SERVICES.redis_url, "Redis")
            limiter = RedisRateLimiter(SERVICES.redis_url, prefix=key_prefix)
        else:
            limiter = MemoryRateLimiter()
        created.append(limiter)
        return limiter

    yield make
    for limiter in created:
        await limiter.close()
    if backend == "scaled":
        await delete_keys(key_prefix)


@pytest_asyncio.fixture
async def limiter(make_limiter: LimiterFactory) -> RateLimiter:
    return make_limiter()


@pytest_asyncio.fixture
async def make_redis_limiter(key_prefix: str) -> AsyncIterator[Callable[[], RedisRateLimiter]]:
    """Redis rate limiters (for the Redis-only tests), sharing the test's key prefix."""
    require_service(SERVICES.redis_url, "Redis")
    created: list[RedisRateLimiter] = []

    def make() -> RedisRateLimiter:
        created.append(RedisRateLimiter(SERVICES.redis_url, prefix=key_prefix))
        return created[-1]

    yield make
    for limiter in created:
        await limiter.close()
    await delete_keys(key_prefix)


@pytest_asyncio.fixture
async def cache(backend: str, key_prefix: str) -> AsyncIterator[Cache]:
    instance: Cache
    if backend == "scaled":
        require_service(SERVICES.redis_url, "Redis")
        instance = RedisCache(SERVICES.redis_url, prefix=key_prefix)
    else:
        instance = MemoryCache()
    yield instance
    await instance.close()
    if backend == "scaled":
        await delete_keys(key_prefix)


@pytest_asyncio.fixture
async def redis_admin() -> AsyncIterator[Redis]:
    """A plain client, to look at what the scaled implementations stored."""
    require_service(SERVICES.redis_url, "Redis")
    client = Redis.from_url(SERVICES.redis_url)
    yield client
    await client.aclose()


async def delete_keys(prefix: str) -> None:
    client = Redis.from_url(SERVICES.redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
