"""The embedded rate limiter and cache: one process's memory, bounded, zero configuration."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from linktor.server.infra.cache.port import CacheError, RateDecision
from linktor.server.infra.cache.token_bucket import (
    check_arguments,
    refill,
    seconds_until_full,
    take,
)

Clock = Callable[[], float]
"""Seconds on a monotonic clock; tests pass a fake one."""

# How many of the least recently used entries one call looks at for a full bucket or an
# expired value to drop: a small, constant cost that keeps idle entries from piling up.
_SWEEP = 2


@dataclass
class _Bucket:
    tokens: float
    updated: float
    full_at: float


class MemoryRateLimiter:
    """Token buckets in a dict, least recently used first.

    At most ``max_buckets`` buckets: full ones (which equal absent ones) are dropped as they
    are met, and when still at the limit the least recently used bucket is dropped (it then
    starts full again, the only way memory pressure can loosen a limit).
    """

    def __init__(self, *, max_buckets: int = 100_000, clock: Clock = time.monotonic) -> None:
        if max_buckets < 1:
            raise ValueError("max_buckets must be at least 1")
        self._max_buckets = max_buckets
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def acquire(self, key: str, *, rate: float, burst: int, cost: int = 1) -> RateDecision:
        # No await below: each acquire is atomic with respect to the others.
        check_arguments(rate, burst, cost)
        now = self._clock()
        self._sweep(now)
        bucket = self._buckets.get(key)
        tokens = float(burst) if bucket is None else bucket.tokens
        elapsed = 0.0 if bucket is None else now - bucket.updated
        tokens = refill(tokens, elapsed, rate=rate, burst=burst)
        decision, left = take(tokens, rate=rate, burst=burst, cost=cost)
        full_at = now + seconds_until_full(left, rate=rate, burst=burst)
        if bucket is None:
            if full_at <= now:
                return decision  # still full: nothing to remember
            self._make_room()
            self._buckets[key] = _Bucket(left, now, full_at)
        else:
            bucket.tokens, bucket.updated, bucket.full_at = left, now, full_at
            self._buckets.move_to_end(key)
        return decision

    async def reset(self, key: str) -> None:
        self._buckets.pop(key, None)

    async def close(self) -> None:
        self._buckets.clear()

    def _sweep(self, now: float) -> None:
        for key in list(islice(self._buckets, _SWEEP)):
            if self._buckets[key].full_at <= now:
                del self._buckets[key]

    def _make_room(self) -> None:
        while len(self._buckets) >= self._max_buckets:
            self._buckets.popitem(last=False)


class MemoryCache:
    """A dict with per-key expiry and at most ``max_entries`` keys (least recently used go)."""

    def __init__(self, *, max_entries: int = 10_000, clock: Clock = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._closed = False

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        if not ttl_seconds > 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        now = self._clock()
        self._drop_expired_oldest(now)
        self._entries[key] = (bytes(value), now + ttl_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def ping(self) -> None:
        if self._closed:
            raise CacheError("the in-memory cache is closed")

    async def close(self) -> None:
        self._closed = True
        self._entries.clear()

    def _drop_expired_oldest(self, now: float) -> None:
        for key in list(islice(self._entries, _SWEEP)):
            if self._entries[key][1] <= now:
                del self._entries[key]
