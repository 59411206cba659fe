"""Plan limits: the port every context calls before creating or using something a plan
limits (channels, users, API keys, messages per month). See docs/auth.md#plans.

Get the tenant's plan with :meth:`PlanLimits.plan_of` BEFORE opening your unit of work (it
reads the tenants table through its own; nesting a second transaction inside yours would
wait on yours forever on SQLite). Then, inside your transaction:

- counted limits: count what the tenant has and call ``plan.check(Limit.CHANNELS, count)``;
- metered limits: call :meth:`PlanLimits.consume` with a usage repository bound to YOUR
  transaction (``SqlUsageRepository(uow.connection)``), so a send that rolls back consumes
  nothing;
- features: ``plan.require_feature("webhooks")``.

Each raises FailedPrecondition with reason PLAN_LIMIT_EXCEEDED (metadata ``limit``, ``plan``,
``maximum``) or FEATURE_NOT_IN_PLAN (metadata ``feature``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from linktor.server.identity.app.ports import IdentityStore, UsageRepository
from linktor.server.identity.domain.plan import PLAN_LIMIT_EXCEEDED, Limit, Plan
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, NotFound


class PlanCatalog:
    """The plans of the installation, from configuration."""

    def __init__(self, plans: Mapping[str, Plan], default: str) -> None:
        self._plans = dict(plans)
        self.default = default

    def get(self, plan_id: str, field: str = "tenant.plan") -> Plan:
        plan = self._plans.get(plan_id)
        if plan is None:
            raise InvalidArgument.for_field(
                field, f"unknown plan {plan_id!r}; the plans are {', '.join(sorted(self._plans))}"
            )
        return plan

    def ids(self) -> list[str]:
        return sorted(self._plans)


class PlanLimits(Protocol):
    """What other contexts use to enforce plans."""

    async def plan_of(self, tenant_id: str) -> Plan:
        """The tenant's plan (cached a few seconds); call it outside your unit of work."""
        ...

    async def consume(
        self, usage: UsageRepository, plan: Plan, tenant_id: str, limit: Limit, amount: int = 1
    ) -> int:
        """Count ``amount`` against a metered limit for the current period; the new total.
        FailedPrecondition PLAN_LIMIT_EXCEEDED (nothing counted) when it would pass it."""
        ...


def month_period(now: datetime) -> str:
    return now.strftime("%Y-%m")


class TenantPlans:
    """PlanLimits over the tenants table, with each tenant's plan cached for ``ttl`` s."""

    def __init__(
        self, store: IdentityStore, catalog: PlanCatalog, clock: Clock, ttl: float = 5.0
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Plan]] = {}

    async def plan_of(self, tenant_id: str) -> Plan:
        cached = self._cache.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        async with self._store.privileged() as uow:
            tenant = await uow.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"tenants/{tenant_id} not found")
        plan = self._catalog.get(tenant.plan)
        self._cache[tenant_id] = (time.monotonic(), plan)
        return plan

    def forget(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)

    async def consume(
        self, usage: UsageRepository, plan: Plan, tenant_id: str, limit: Limit, amount: int = 1
    ) -> int:
        now = self._clock.now()
        maximum = plan.limit(limit)
        total = await usage.consume(tenant_id, limit.value, month_period(now), amount, maximum, now)
        if total is None:
            raise FailedPrecondition(
                f"the {plan.display_name or plan.id} plan allows {maximum} {limit.noun};"
                " the limit resets at the start of next month, or upgrade the plan",
                reason=PLAN_LIMIT_EXCEEDED,
                metadata={"limit": limit.value, "plan": plan.id, "maximum": str(maximum)},
            )
        return total
