"""A webhook endpoint: a URL of a tenant that receives the tenant's events.

The entity keeps its signing secrets sealed (ciphertexts the domain never opens): the current
one, and during a rotation's grace period the previous one, which keeps signing next to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from linktor.server.webhooks.domain.rules import matches_event_type

# An endpoint answering nothing but failures for this long is disabled (Standard Webhooks'
# guidance; the customer is told by a webhook_endpoint.disabled event).
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)
GONE_REASON = "the endpoint answered 410 Gone"
FAILING_REASON = "every delivery failed for 5 days"


@dataclass(frozen=True)
class RateLimit:
    """At most ``per_second`` requests per second sustained, ``burst`` at once; 0 per second
    means the platform default, 0 burst means per_second rounded up (at least 1)."""

    per_second: float = 0.0
    burst: int = 0

    def effective(self, default_per_second: float) -> tuple[float, int]:
        rate = self.per_second if self.per_second > 0 else default_per_second
        burst = self.burst if self.burst > 0 else max(1, math.ceil(rate))
        return rate, burst


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    tenant_id: str
    url: str
    create_time: datetime
    update_time: datetime
    # The current signing secret, sealed by the SecretBox.
    sealed_secret: bytes = field(repr=False)
    event_types: tuple[str, ...] = ()
    description: str = ""
    # Paused by a user, or by Linktor (then ``disabled_reason`` says why).
    disabled: bool = False
    disabled_reason: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    rate_limit: RateLimit = RateLimit()
    # Delays between attempts after the first; empty = the platform schedule.
    retry_schedule: tuple[timedelta, ...] = ()
    # The secret before the last rotation, signing too until ``previous_secret_expire_time``.
    sealed_previous_secret: bytes | None = field(default=None, repr=False)
    previous_secret_expire_time: datetime | None = None
    # Since when every attempt failed (None after a success).
    failing_since: datetime | None = None
    version: int = 1

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/webhookEndpoints/{self.id}"

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    def subscribes_to(self, event_type: str) -> bool:
        return matches_event_type(self.event_types, event_type)

    def previous_secret_signs(self, now: datetime) -> bool:
        """Whether the pre-rotation secret still signs (its grace period is running)."""
        return (
            self.sealed_previous_secret is not None
            and self.previous_secret_expire_time is not None
            and now < self.previous_secret_expire_time
        )

    def rotated(self, sealed_secret: bytes, grace: timedelta, now: datetime) -> WebhookEndpoint:
        """The endpoint signing with a new secret; the current one keeps signing for
        ``grace`` (not at all for a zero grace)."""
        return replace(
            self,
            sealed_secret=sealed_secret,
            sealed_previous_secret=self.sealed_secret if grace > timedelta(0) else None,
            previous_secret_expire_time=now + grace if grace > timedelta(0) else None,
            update_time=now,
        )

    def disabled_by_linktor(self, reason: str, now: datetime) -> WebhookEndpoint:
        return replace(self, disabled=True, disabled_reason=reason, update_time=now)
