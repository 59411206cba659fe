"""Token-bucket arithmetic, shared by the in-memory limiter and mirrored by the Redis script.

A bucket holds up to ``burst`` tokens and gains ``rate`` tokens per second; a call takes
``cost`` tokens or, when there are not enough, takes nothing and says how long to wait.
A missing bucket is a full one, so a bucket that has refilled can be forgotten.
"""

from __future__ import annotations

import math

from linktor.server.infra.cache.port import RateDecision

# Float refills (0.1 + 0.2 ...) must not refuse a token that is, in exact arithmetic, there.
EPSILON = 1e-9


def check_arguments(rate: float, burst: int, cost: int) -> None:
    if not rate > 0 or math.isinf(rate):
        raise ValueError(f"rate must be a positive number of tokens per second, got {rate}")
    if burst < 1:
        raise ValueError(f"burst must be at least 1, got {burst}")
    if cost < 0:
        raise ValueError(f"cost must not be negative, got {cost}")


def refill(tokens: float, elapsed: float, *, rate: float, burst: int) -> float:
    """Tokens after ``elapsed`` seconds (a clock going backwards adds nothing)."""
    return min(float(burst), tokens + max(0.0, elapsed) * rate)


def take(tokens: float, *, rate: float, burst: int, cost: int) -> tuple[RateDecision, float]:
    """The decision for ``cost`` out of ``tokens`` (already refilled), and the tokens left.

    ``cost`` > ``burst`` can never be served: not allowed, ``retry_after`` = infinity.
    """
    if cost > burst:
        return RateDecision(False, math.floor(tokens + EPSILON), math.inf, burst), tokens
    if tokens + EPSILON < cost:
        retry_after = (cost - tokens) / rate
        return RateDecision(False, math.floor(tokens + EPSILON), retry_after, burst), tokens
    left = max(0.0, tokens - cost)
    return RateDecision(True, math.floor(left + EPSILON), 0.0, burst), left


def seconds_until_full(tokens: float, *, rate: float, burst: int) -> float:
    return max(0.0, burst - tokens) / rate
