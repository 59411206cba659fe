"""MessageQuota over the identity context's plans and usage counters."""

from __future__ import annotations

from linktor.server.identity.adapters.sql_audit import SqlUsageRepository
from linktor.server.identity.app.plans import TenantPlans
from linktor.server.identity.domain.plan import Limit, Plan
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork


class PlanMessageQuota:
    """Counts sends against the plan's messages_per_month. Unlimited plans cost nothing; a
    limited plan counts in one row per tenant and month, which serializes that tenant's
    sends on the row for the length of their transactions (fine at the volumes limited plans
    allow)."""

    def __init__(self, plans: TenantPlans) -> None:
        self._plans = plans

    async def allowance(self, tenant_id: str) -> object | None:
        plan = await self._plans.plan_of(tenant_id)
        return plan if plan.limit(Limit.MESSAGES_PER_MONTH) is not None else None

    async def consume(
        self, uow: SqlMessagingUnitOfWork, allowance: object, tenant_id: str, amount: int = 1
    ) -> None:
        assert isinstance(allowance, Plan)
        await self._plans.consume(
            SqlUsageRepository(uow.connection),
            allowance,
            tenant_id,
            Limit.MESSAGES_PER_MONTH,
            amount,
        )
