"""Plans: limits and feature flags of a tenant's subscription (defined in configuration)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from linktor.server.shared.errors import FailedPrecondition

PLAN_LIMIT_EXCEEDED = "PLAN_LIMIT_EXCEEDED"
FEATURE_NOT_IN_PLAN = "FEATURE_NOT_IN_PLAN"


class Limit(StrEnum):
    """What a plan limits. Counted limits are checked when a thing is created; metered ones
    (messages per month) are consumed as they are used."""

    MESSAGES_PER_MONTH = "messages_per_month"
    CHANNELS = "channels"
    AGENTS = "agents"
    API_KEYS = "api_keys"

    @property
    def noun(self) -> str:
        return {
            Limit.MESSAGES_PER_MONTH: "messages this month",
            Limit.CHANNELS: "channels",
            Limit.AGENTS: "users",
            Limit.API_KEYS: "active API keys",
        }[self]


@dataclass(frozen=True)
class Plan:
    id: str
    display_name: str
    # 0 (or absent) means unlimited.
    limits: Mapping[Limit, int] = field(default_factory=dict)
    features: Mapping[str, bool] = field(default_factory=dict)

    def limit(self, limit: Limit) -> int | None:
        """The maximum, or None when unlimited."""
        value = self.limits.get(limit, 0)
        return value if value > 0 else None

    def check(self, limit: Limit, current: int, adding: int = 1) -> None:
        """FailedPrecondition (PLAN_LIMIT_EXCEEDED) when ``current + adding`` exceeds it."""
        maximum = self.limit(limit)
        if maximum is not None and current + adding > maximum:
            raise FailedPrecondition(
                f"the {self.display_name or self.id} plan allows {maximum} {limit.noun} and this"
                f" tenant has {current}; upgrade the plan or remove some first",
                reason=PLAN_LIMIT_EXCEEDED,
                metadata={"limit": limit.value, "plan": self.id, "maximum": str(maximum)},
            )

    def require_feature(self, feature: str) -> None:
        if not self.features.get(feature, False):
            raise FailedPrecondition(
                f"the {self.display_name or self.id} plan does not include {feature}",
                reason=FEATURE_NOT_IN_PLAN,
                metadata={"feature": feature, "plan": self.id},
            )
