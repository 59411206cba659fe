"""When to try a failed delivery again: exponential backoff with full jitter, honouring the
provider's retry_after, bounded by a number of attempts and an age."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    factor: float = 2.0
    max_delay_seconds: float = 300.0
    max_attempts: int = 12
    max_age: timedelta = timedelta(hours=24)

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        Full jitter spreads retries of many messages that failed together; the provider's
        retry_after is a floor, never shortened by jitter.
        """
        ceiling = min(self.max_delay_seconds, self.base_seconds * self.factor ** (attempt - 1))
        jittered = (rng or _rng).uniform(ceiling / 2, ceiling)
        return max(jittered, retry_after or 0.0)

    def gives_up(self, attempt: int, created: datetime, next_attempt: datetime) -> str | None:
        """Why no further attempt is made after ``attempt``, or None to retry."""
        if attempt >= self.max_attempts:
            return f"gave up after {attempt} attempts"
        if next_attempt - created > self.max_age:
            return f"not delivered within {self.max_age}"
        return None


_rng = random.Random()  # noqa: S311 - jitter, not security
