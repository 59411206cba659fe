"""The scaled rate limiter and cache: Redis, shared by every replica.

Each class owns a bounded connection pool (waiting for a free connection rather than opening
without limit) with short socket timeouts and a couple of quick retries, so an unreachable
Redis turns into CacheError within seconds instead of hanging a request.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable
from typing import TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import NoScriptError, RedisError

from linktor.server.infra.cache.port import CacheError, RateDecision
from linktor.server.infra.cache.token_bucket import check_arguments

_T = TypeVar("_T")

# The token bucket of token_bucket.py as ONE script, so a check and its update are atomic
# across replicas. Time is Redis's own (TIME, microseconds): replicas' clocks may disagree.
# KEYS[1]: the bucket, a hash {tokens, ts}; ARGV: rate (tokens/s), burst, cost.
# Returns {allowed 0|1, remaining tokens floored, retry after in microseconds (-1: never)}.
BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local epsilon = 1e-9
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000000)
end
if cost > burst then
  return {0, math.floor(tokens + epsilon), -1}
end
if tokens + epsilon < cost then
  return {0, math.floor(tokens + epsilon), math.ceil((cost - tokens) * 1000000 / rate)}
end
tokens = math.max(0, tokens - cost)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'ts', string.format('%.0f', now))
-- Once refilled the bucket equals a missing one: let Redis drop it then.
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1)
return {1, math.floor(tokens + epsilon), 0}
"""
_BUCKET_SCRIPT_SHA = hashlib.sha1(BUCKET_SCRIPT.encode()).hexdigest()  # noqa: S324  (Redis's id)


def create_client(
    url: str,
    *,
    max_connections: int = 32,
    socket_timeout_seconds: float = 2.0,
    pool_timeout_seconds: float = 5.0,
) -> Redis:
    """A client on its own bounded pool (closed with the client)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout_seconds,
        socket_timeout=socket_timeout_seconds,
        socket_connect_timeout=socket_timeout_seconds,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), retries=2),
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


async def _call(what: str, awaitable: Awaitable[_T]) -> _T:
    """Await a Redis command, turning any Redis failure into CacheError."""
    try:
        return await awaitable
    except (RedisError, OSError) as exc:
        raise CacheError(f"redis {what} failed: {exc or type(exc).__name__}") from exc


class RedisRateLimiter:
    """Token buckets in Redis hashes under ``prefix``, shared by every replica."""

    def __init__(self, url: str, *, prefix: str = "linktor:rl:", max_connections: int = 32) -> None:
        self._redis = create_client(url, max_connections=max_connections)
        self._prefix = prefix

    async def acquire(self, key: str, *, rate: float, burst: int, cost: int = 1) -> RateDecision:
        check_arguments(rate, burst, cost)
        args = (self._prefix + key, repr(float(rate)), str(burst), str(cost))
        allowed, remaining, retry_us = await _call("token bucket", self._run_script(*args))
        retry_after = math.inf if retry_us < 0 else retry_us / 1_000_000
        return RateDecision(bool(allowed), int(remaining), retry_after, burst)

    async def _run_script(self, key: str, *argv: str) -> list[int]:
        # EVALSHA sends 40 bytes instead of the script; EVAL (which also caches it) only when
        # this Redis has not seen the script yet (new server, restart, SCRIPT FLUSH).
        try:
            result = await self._redis.evalsha(_BUCKET_SCRIPT_SHA, 1, key, *argv)
        except NoScriptError:
            result = await self._redis.eval(BUCKET_SCRIPT, 1, key, *argv)
        return [int(value) for value in result]

    async def reset(self, key: str) -> None:
        await _call("reset", self._redis.delete(self._prefix + key))

    async def close(self) -> None:
        await self._redis.aclose()


class RedisCache:
    """Values under ``prefix`` with millisecond expiry (PX)."""

    def __init__(
        self, url: str, *, prefix: str = "linktor:cache:", max_connections: int = 32
    ) -> None:
        self._redis = create_client(url, max_connections=max_connections)
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await _call("get", self._redis.get(self._prefix + key))
        # The client does not decode responses, so this is bytes; the stubs cannot know that.
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        if not ttl_seconds > 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        ttl_ms = max(1, math.ceil(ttl_seconds * 1000))
        await _call("set", self._redis.set(self._prefix + key, value, px=ttl_ms))

    async def delete(self, key: str) -> None:
        await _call("delete", self._redis.delete(self._prefix + key))

    async def ping(self) -> None:
        await _call("ping", self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()
