"""The RateLimiter contract (token buckets), with the same test bodies in memory (embedded)
and in Redis (scaled), plus what only one of them can show."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

import pytest
from lktest.services import SERVICES, free_port
from redis.asyncio import Redis

from linktor.server.infra.cache import redis as redis_module
from linktor.server.infra.cache.factory import create_cache, create_rate_limiter
from linktor.server.infra.cache.memory import MemoryCache, MemoryRateLimiter
from linktor.server.infra.cache.port import Cache, CacheError, RateLimiter
from linktor.server.infra.cache.redis import RedisCache, RedisRateLimiter

# ------------------------------------------------------------------ both backends


async def test_burst_is_allowed_then_refused(limiter: RateLimiter) -> None:
    decisions = [await limiter.acquire("k", rate=0.01, burst=5) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert all(d.limit == 5 for d in decisions)
    assert all(d.retry_after == 0 for d in decisions[:5])
    assert decisions[5].retry_after > 0


async def test_tokens_refill_at_the_rate(limiter: RateLimiter) -> None:
    for _ in range(2):
        assert (await limiter.acquire("k", rate=20, burst=2)).allowed
    assert not (await limiter.acquire("k", rate=20, burst=2)).allowed
    await asyncio.sleep(0.06)  # 20/s: one token every 50 ms
    assert (await limiter.acquire("k", rate=20, burst=2)).allowed
    assert not (await limiter.acquire("k", rate=20, burst=2)).allowed


async def test_refill_never_exceeds_the_burst(limiter: RateLimiter) -> None:
    assert (await limiter.acquire("k", rate=100, burst=3)).remaining == 2
    await asyncio.sleep(0.1)  # 10 tokens' worth of time
    decisions = [await limiter.acquire("k", rate=100, burst=3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]


async def test_retry_after_is_exactly_the_wait_for_the_missing_tokens(
    limiter: RateLimiter,
) -> None:
    emptied_at = time.monotonic()
    assert (await limiter.acquire("k", rate=2, burst=1)).allowed
    refused = await limiter.acquire("k", rate=2, burst=1)
    elapsed = time.monotonic() - emptied_at
    assert not refused.allowed
    # 1 token at 2/s: 0.5 s after the bucket emptied, minus the time already gone.
    assert 0.5 - elapsed - 0.002 <= refused.retry_after <= 0.5
    await asyncio.sleep(refused.retry_after + 0.005)
    assert (await limiter.acquire("k", rate=2, burst=1)).allowed


async def test_retry_after_covers_the_whole_cost(limiter: RateLimiter) -> None:
    assert (await limiter.acquire("k", rate=10, burst=4, cost=4)).allowed
    refused = await limiter.acquire("k", rate=10, burst=4, cost=3)
    assert not refused.allowed
    assert 0.28 <= refused.retry_after <= 0.3  # 3 tokens at 10/s


async def test_a_refused_call_takes_nothing(limiter: RateLimiter) -> None:
    assert (await limiter.acquire("k", rate=0.01, burst=3, cost=2)).remaining == 1
    refused = await limiter.acquire("k", rate=0.01, burst=3, cost=2)
    assert not refused.allowed and refused.remaining == 1
    assert (await limiter.acquire("k", rate=0.01, burst=3, cost=1)).allowed


async def test_cost_above_burst_is_never_allowed(limiter: RateLimiter) -> None:
    refused = await limiter.acquire("k", rate=1000, burst=10, cost=11)
    assert not refused.allowed
    assert refused.retry_after == math.inf
    assert refused.remaining == 10  # nothing taken
    assert (await limiter.acquire("k", rate=1000, burst=10, cost=10)).allowed


async def test_reset_refills_the_bucket(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.acquire("k", rate=0.01, burst=3)
    assert not (await limiter.acquire("k", rate=0.01, burst=3)).allowed
    await limiter.reset("k")
    assert (await limiter.acquire("k", rate=0.01, burst=3)).remaining == 2
    await limiter.reset("never-used")


async def test_buckets_are_independent(limiter: RateLimiter) -> None:
    assert (await limiter.acquire("tenant-a", rate=0.01, burst=1)).allowed
    assert not (await limiter.acquire("tenant-a", rate=0.01, burst=1)).allowed
    assert (await limiter.acquire("tenant-b", rate=0.01, burst=1)).allowed


async def test_concurrent_acquires_never_overspend(limiter: RateLimiter) -> None:
    decisions = await asyncio.gather(
        *(limiter.acquire("hot", rate=0.001, burst=10) for _ in range(100))
    )
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))


@pytest.mark.parametrize(
    ("rate", "burst", "cost"), [(0, 1, 1), (-1, 1, 1), (math.inf, 1, 1), (1, 0, 1), (1, 1, -1)]
)
async def test_invalid_arguments_are_refused(
    limiter: RateLimiter, rate: float, burst: int, cost: int
) -> None:
    with pytest.raises(ValueError, match=r"rate|burst|cost"):
        await limiter.acquire("k", rate=rate, burst=burst, cost=cost)


# ------------------------------------------------------------------ in memory (fake clock)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.unit
async def test_memory_retry_after_is_exact_with_a_fake_clock() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    for _ in range(10):
        assert (await limiter.acquire("k", rate=2, burst=10)).allowed
    refused = await limiter.acquire("k", rate=2, burst=10, cost=3)
    assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 1.5)
    clock.now += 1.0
    refused = await limiter.acquire("k", rate=2, burst=10, cost=3)
    assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 2, 0.5)
    clock.now += 0.5
    allowed = await limiter.acquire("k", rate=2, burst=10, cost=3)
    assert (allowed.allowed, allowed.remaining, allowed.retry_after) == (True, 0, 0.0)


@pytest.mark.unit
async def test_memory_clock_going_backwards_adds_no_tokens() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    assert (await limiter.acquire("k", rate=1, burst=1)).allowed
    clock.now -= 100
    assert not (await limiter.acquire("k", rate=1, burst=1)).allowed


@pytest.mark.unit
async def test_memory_forgets_buckets_once_refilled() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    for i in range(50):
        await limiter.acquire(f"k{i}", rate=1, burst=2)
    assert len(limiter) == 50
    clock.now += 1.0  # every bucket is full again: equal to absent
    for i in range(50):
        await limiter.acquire(f"fresh{i}", rate=1, burst=2, cost=0)
    assert len(limiter) == 0


@pytest.mark.unit
async def test_memory_keeps_at_most_max_buckets() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(max_buckets=10, clock=clock)
    for i in range(100):
        await limiter.acquire(f"k{i}", rate=0.001, burst=5)
    assert len(limiter) == 10
    # The most recently used keys are the ones kept.
    assert (await limiter.acquire("k99", rate=0.001, burst=5)).remaining == 3


# ------------------------------------------------------------------ Redis only


@pytest.mark.integration
async def test_redis_buckets_are_atomic_across_client_instances(
    make_redis_limiter: Callable[[], RedisRateLimiter],
) -> None:
    first, second = make_redis_limiter(), make_redis_limiter()  # two pools: two replicas
    decisions = await asyncio.gather(
        *((first if i % 2 else second).acquire("shared", rate=0.001, burst=10) for i in range(100))
    )
    assert sum(d.allowed for d in decisions) == 10


@pytest.mark.integration
async def test_redis_bucket_expires_once_it_would_be_full(
    make_redis_limiter: Callable[[], RedisRateLimiter], key_prefix: str, redis_admin: Redis
) -> None:
    limiter = make_redis_limiter()
    await limiter.acquire("idle", rate=10, burst=5, cost=3)  # full again after 0.3 s
    fields = await redis_admin.hgetall(f"{key_prefix}idle")
    assert set(fields) == {b"tokens", b"ts"}
    assert 250 <= await redis_admin.pttl(f"{key_prefix}idle") <= 302
    await asyncio.sleep(0.4)
    assert await redis_admin.exists(f"{key_prefix}idle") == 0


@pytest.mark.integration
async def test_redis_falls_back_to_eval_when_the_script_is_unknown(
    make_redis_limiter: Callable[[], RedisRateLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A digest Redis has never seen: EVALSHA answers NOSCRIPT, the limiter must EVAL instead.
    monkeypatch.setattr(redis_module, "_BUCKET_SCRIPT_SHA", "0" * 40)
    limiter = make_redis_limiter()
    assert (await limiter.acquire("k", rate=1, burst=2)).remaining == 1
    assert (await limiter.acquire("k", rate=1, burst=2)).remaining == 0


@pytest.mark.integration
async def test_redis_limiter_raises_cache_error_when_unreachable() -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    try:
        with pytest.raises(CacheError, match="redis token bucket failed"):
            await limiter.acquire("k", rate=1, burst=1)
    finally:
        await limiter.close()
    assert time.monotonic() - started < 5


@pytest.mark.integration
async def test_factories_pick_the_implementation_from_the_url() -> None:
    created: list[RateLimiter | Cache] = [
        create_rate_limiter(None),
        create_rate_limiter(SERVICES.redis_url),
        create_cache(None),
        create_cache(SERVICES.redis_url),
    ]
    kinds = [MemoryRateLimiter, RedisRateLimiter, MemoryCache, RedisCache]
    assert [type(instance) for instance in created] == kinds
    for instance in created:
        await instance.close()
