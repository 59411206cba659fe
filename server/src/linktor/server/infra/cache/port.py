"""Rate limiter and cache ports.

Token buckets are the one rate-limiting algorithm of the platform: per tenant and API key
(API calls), per channel (provider limits), per login account and address, per webhook
endpoint. The scaled implementation keeps them in Redis with one atomic script so every
replica shares the same buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RateDecision:
    """The answer of a token bucket."""

    allowed: bool
    # Tokens left after this call (rounded down).
    remaining: int
    # Seconds until ``cost`` tokens are available again; 0 when allowed.
    retry_after: float
    # The bucket's capacity, for RateLimit headers.
    limit: int


class RateLimiter(Protocol):
    """Token buckets identified by a key."""

    async def acquire(self, key: str, *, rate: float, burst: int, cost: int = 1) -> RateDecision:
        """Take ``cost`` tokens from bucket ``key`` refilled at ``rate`` per second up to
        ``burst``. Takes nothing when not allowed. ``cost`` > ``burst`` is never allowed
        (``retry_after`` is then ``math.inf``)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget bucket ``key`` (a full bucket next time)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class Cache(Protocol):
    """A small shared key/value cache with expiry."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the key if present."""
        ...

    async def ping(self) -> None:
        """Raise CacheError unless the cache is reachable (readiness probe)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class CacheError(Exception):
    """The cache backend could not be reached."""
