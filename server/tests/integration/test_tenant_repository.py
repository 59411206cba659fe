"""The tenant repository and the unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lktest.services import unique_id
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.identity.adapters.sql import SqlIdentityUnitOfWork
from linktor.server.identity.domain.tenant import Tenant, TenantState
from linktor.server.shared.errors import Aborted, AlreadyExists

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def new_tenant(tenant_id: str | None = None) -> Tenant:
    return Tenant.create(tenant_id or unique_id(), "Acme Ltd", "free", NOW)


async def test_add_and_get_round_trip(engine: AsyncEngine) -> None:
    tenant = new_tenant()
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        await uow.tenants.add(tenant)
        await uow.commit()
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        stored = await uow.tenants.get(tenant.id)
    assert stored == tenant
    assert stored is not None and stored.create_time.tzinfo is not None


async def test_uncommitted_work_is_rolled_back(engine: AsyncEngine) -> None:
    tenant = new_tenant()
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        await uow.tenants.add(tenant)
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        assert await uow.tenants.get(tenant.id) is None


async def test_an_exception_rolls_back(engine: AsyncEngine) -> None:
    tenant = new_tenant()
    with pytest.raises(RuntimeError):
        async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
            await uow.tenants.add(tenant)
            raise RuntimeError("boom")
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        assert await uow.tenants.get(tenant.id) is None


async def test_duplicate_id_is_already_exists_and_the_transaction_survives(
    engine: AsyncEngine,
) -> None:
    tenant, other = new_tenant(), new_tenant()
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        await uow.tenants.add(tenant)
        await uow.commit()
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        with pytest.raises(AlreadyExists):
            await uow.tenants.add(tenant)
        await uow.tenants.add(other)  # the failed insert did not poison the transaction
        await uow.commit()
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        assert await uow.tenants.get(other.id) is not None


async def test_optimistic_concurrency_on_update(engine: AsyncEngine) -> None:
    tenant = new_tenant()
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        await uow.tenants.add(tenant)
        await uow.commit()
    suspended = tenant.suspend("unpaid invoices", NOW + timedelta(days=1))
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        saved = await uow.tenants.update(suspended, expected_version=tenant.version)
        await uow.commit()
    assert saved.version == tenant.version + 1
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        with pytest.raises(Aborted):
            await uow.tenants.update(suspended, expected_version=tenant.version)
        stored = await uow.tenants.get(tenant.id)
    assert stored is not None
    assert stored.state is TenantState.SUSPENDED
    assert stored.suspend_reason == "unpaid invoices"
    assert stored.update_time == NOW + timedelta(days=1)


async def test_list_pages_in_id_order_and_filters_by_state(engine: AsyncEngine) -> None:
    prefix = unique_id("p")[:10]
    ids = [f"{prefix}-{i:02d}" for i in range(5)]
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        for tenant_id in reversed(ids):
            await uow.tenants.add(new_tenant(tenant_id))
        await uow.commit()
    seen: list[str] = []
    after = f"{prefix}-"
    async with SqlIdentityUnitOfWork(engine, privileged=True) as uow:
        while True:
            page = [
                t
                for t in await uow.tenants.list(limit=2, after_id=after)
                if t.id.startswith(prefix)
            ]
            if not page:
                break
            seen += [t.id for t in page]
            after = page[-1].id
        suspended = await uow.tenants.list(limit=1000, state=TenantState.SUSPENDED)
    assert seen == ids
    assert not any(t.id.startswith(prefix) for t in suspended)
