"""Choosing the rate limiter and cache from configuration: no Redis URL means in-memory."""

from __future__ import annotations

from linktor.server.infra.cache.port import Cache, RateLimiter


def create_rate_limiter(redis_url: str | None) -> RateLimiter:
    """Redis token buckets shared by all replicas when ``redis_url`` is set, else in-memory."""
    if redis_url:
        # Imported here so embedded mode never loads the Redis client.
        from linktor.server.infra.cache.redis import RedisRateLimiter

        return RedisRateLimiter(redis_url)
    from linktor.server.infra.cache.memory import MemoryRateLimiter

    return MemoryRateLimiter()


def create_cache(redis_url: str | None) -> Cache:
    """A Redis cache shared by all replicas when ``redis_url`` is set, else in-memory."""
    if redis_url:
        from linktor.server.infra.cache.redis import RedisCache

        return RedisCache(redis_url)
    from linktor.server.infra.cache.memory import MemoryCache

    return MemoryCache()
