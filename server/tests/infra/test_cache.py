"""The Cache contract, with the same test bodies in memory (embedded) and in Redis (scaled)."""

from __future__ import annotations

import asyncio
import time

import pytest
from lktest.services import free_port

from linktor.server.infra.cache.memory import MemoryCache
from linktor.server.infra.cache.port import Cache, CacheError
from linktor.server.infra.cache.redis import RedisCache


async def test_set_then_get_returns_the_bytes(cache: Cache) -> None:
    await cache.set("k", b"\x00\xffvalue", ttl_seconds=10)
    assert await cache.get("k") == b"\x00\xffvalue"


async def test_absent_key_is_none(cache: Cache) -> None:
    assert await cache.get("missing") is None


async def test_set_overwrites(cache: Cache) -> None:
    await cache.set("k", b"1", ttl_seconds=10)
    await cache.set("k", b"2", ttl_seconds=10)
    assert await cache.get("k") == b"2"


async def test_value_expires_after_its_ttl(cache: Cache) -> None:
    await cache.set("short", b"x", ttl_seconds=0.2)
    await cache.set("long", b"y", ttl_seconds=10)
    assert await cache.get("short") == b"x"
    await asyncio.sleep(0.3)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"y"


async def test_delete_removes_and_tolerates_absent_keys(cache: Cache) -> None:
    await cache.set("k", b"x", ttl_seconds=10)
    await cache.delete("k")
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_non_positive_ttl_is_refused(cache: Cache) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        await cache.set("k", b"x", ttl_seconds=0)


async def test_ping_succeeds_when_reachable(cache: Cache) -> None:
    await cache.ping()


async def test_ping_fails_when_the_cache_is_down(backend: str) -> None:
    down: Cache
    if backend == "scaled":
        down = RedisCache(f"redis://127.0.0.1:{free_port()}/0")  # a closed port
    else:
        down = MemoryCache()
        await down.close()
    started = time.monotonic()
    with pytest.raises(CacheError):
        await down.ping()
    assert time.monotonic() - started < 5
    await down.close()


@pytest.mark.integration
async def test_redis_get_raises_cache_error_when_unreachable() -> None:
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(CacheError, match="redis get failed"):
            await cache.get("k")
    finally:
        await cache.close()


@pytest.mark.unit
async def test_memory_cache_keeps_at_most_max_entries_least_recently_used_first() -> None:
    cache = MemoryCache(max_entries=3)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), ttl_seconds=10)
    assert await cache.get("a") == b"a"  # "a" is now the most recently used
    await cache.set("d", b"d", ttl_seconds=10)
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(key) for key in ("a", "c", "d")] == [b"a", b"c", b"d"]


@pytest.mark.unit
async def test_memory_cache_drops_expired_entries_as_it_goes() -> None:
    now = [0.0]
    cache = MemoryCache(clock=lambda: now[0])
    for i in range(10):
        await cache.set(f"old{i}", b"x", ttl_seconds=1)
    now[0] = 2.0
    for i in range(10):
        await cache.set(f"new{i}", b"y", ttl_seconds=1)
    assert len(cache) == 10
