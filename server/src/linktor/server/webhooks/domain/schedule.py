"""When a failed delivery is attempted again: the published schedule (docs/webhooks.md).

The first attempt is immediate; after a failure the next one comes after the schedule's
delay for that attempt, spread by a little jitter (so deliveries that failed together, when a
receiver went down, do not all come back in the same second), and never sooner than the
receiver's Retry-After on 429 and 503. After the schedule's last delay the delivery fails.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

# Immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts over about 27.5 h.
DEFAULT_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
# Jitter: each delay is moved by up to this fraction, either way.
JITTER = 0.1
# A Retry-After longer than this is capped (a receiver cannot park a delivery forever).
MAX_RETRY_AFTER = timedelta(hours=24)
# Statuses whose Retry-After is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 503})

_rng = random.Random()  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class RetrySchedule:
    delays: tuple[timedelta, ...] = DEFAULT_DELAYS

    @classmethod
    def of(cls, custom: Sequence[timedelta]) -> RetrySchedule:
        """The endpoint's schedule, or the platform's when it has none."""
        return cls(tuple(custom)) if custom else cls()

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_delay(
        self,
        failed_attempt: int,
        retry_after: timedelta | None = None,
        rng: random.Random | None = None,
    ) -> timedelta | None:
        """The wait after failed attempt number ``failed_attempt`` (1-based), or None when
        it was the last one."""
        if failed_attempt >= self.max_attempts:
            return None
        base = self.delays[failed_attempt - 1]
        factor = 1 + (rng or _rng).uniform(-JITTER, JITTER)
        delay = base * factor
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay
