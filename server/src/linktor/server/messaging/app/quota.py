"""The plan's monthly message allowance, as SendMessage sees it (implemented over the
identity context's plans; tests use :class:`NoQuota`)."""

from __future__ import annotations

from typing import Protocol

from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork


class MessageQuota(Protocol):
    async def allowance(self, tenant_id: str) -> object | None:
        """What consume needs to count a message, or None when the tenant's plan is
        unlimited. Read before the send's transaction opens."""
        ...

    async def consume(
        self, uow: SqlMessagingUnitOfWork, allowance: object, tenant_id: str, amount: int = 1
    ) -> None:
        """Count ``amount`` messages in the send's transaction (so a rolled-back send counts
        nothing); FailedPrecondition PLAN_LIMIT_EXCEEDED when the month's allowance would be
        passed (nothing counted then)."""
        ...


class NoQuota:
    async def allowance(self, tenant_id: str) -> object | None:
        return None

    async def consume(
        self, uow: SqlMessagingUnitOfWork, allowance: object, tenant_id: str, amount: int = 1
    ) -> None:
        return None
