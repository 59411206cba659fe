"""Row-level security on PostgreSQL: the database itself keeps tenants apart, so a query
that forgot its tenant filter returns only the current tenant's rows (or none)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from lktest.identity import cheap_passwords
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.identity.adapters.secrets import Sha256Credentials
from linktor.server.identity.adapters.sql import SqlIdentityStore, SqlIdentityUnitOfWork
from linktor.server.identity.app.plans import PlanCatalog
from linktor.server.identity.app.tenants import TenantAdmin
from linktor.server.identity.domain.plan import Plan
from linktor.server.infra.db.engine import create_engine
from linktor.server.infra.db.schema import load_all_tables
from linktor.server.shared.clock import SystemClock

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def pg(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    yield engine
    await engine.dispose()


async def two_tenants(engine: AsyncEngine) -> tuple[str, str]:
    admin = TenantAdmin(
        SqlIdentityStore(engine),
        PlanCatalog({"free": Plan("free", "Free")}, "free"),
        cheap_passwords(),
        Sha256Credentials(),
        SystemClock(),
    )
    ids: list[str] = []
    for _ in range(2):
        made = await admin.bootstrap(display_name="RLS", owner_email=f"o{len(ids)}@rls.example")
        ids.append(made.tenant.id)
    return ids[0], ids[1]


async def test_an_unfiltered_query_sees_only_the_current_tenant(pg: AsyncEngine) -> None:
    a, b = await two_tenants(pg)
    unfiltered = text("SELECT DISTINCT tenant_id FROM api_keys")  # no WHERE: deliberately
    async with SqlIdentityUnitOfWork(pg, tenant_id=a) as uow:
        assert (await uow.connection.execute(unfiltered)).scalars().all() == [a]
        assert (await uow.connection.execute(text("SELECT id FROM tenants"))).scalars().all() == [a]
        audit = await uow.connection.execute(text("SELECT DISTINCT tenant_id FROM audit_entries"))
        assert audit.scalars().all() == [a]
    async with SqlIdentityUnitOfWork(pg, tenant_id=b) as uow:
        assert (await uow.connection.execute(unfiltered)).scalars().all() == [b]
    # No tenant and not privileged: no tenant rows at all.
    async with SqlIdentityUnitOfWork(pg) as uow:
        assert (await uow.connection.execute(unfiltered)).scalars().all() == []
    # Privileged: every tenant (operator APIs, credential lookups, workers).
    async with SqlIdentityUnitOfWork(pg, privileged=True) as uow:
        seen = set((await uow.connection.execute(unfiltered)).scalars().all())
    assert {a, b} <= seen


async def test_writing_another_tenants_rows_is_refused(pg: AsyncEngine) -> None:
    a, b = await two_tenants(pg)
    async with SqlIdentityUnitOfWork(pg, tenant_id=a) as uow:
        changed = await uow.connection.execute(text("UPDATE memberships SET display_name = 'x'"))
        assert changed.rowcount == 1  # only A's owner
        with pytest.raises(DBAPIError, match="row-level security"):
            async with uow.connection.begin_nested():
                await uow.connection.execute(
                    text(
                        "INSERT INTO audit_entries (id, tenant_id, create_time, action, actor,"
                        " resource, success, details) VALUES ('x1', :b, now(), 'a', 'a', 'r',"
                        " true, '{}')"
                    ),
                    {"b": b},
                )


async def test_the_setting_does_not_outlive_its_transaction(pg: AsyncEngine) -> None:
    a, _b = await two_tenants(pg)
    async with SqlIdentityUnitOfWork(pg, privileged=True) as uow:
        pass
    # A pooled connection reused after a privileged transaction is not privileged.
    async with pg.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM api_keys"))).scalar_one()
    assert rows == 0
    del uow, a


async def test_every_tenant_table_has_forced_rls_and_a_policy(pg: AsyncEngine) -> None:
    metadata = load_all_tables()
    tenant_tables = {t.name for t in metadata.tables.values() if "tenant_id" in t.c} | {"tenants"}
    async with pg.connect() as conn:
        existing = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        rows = (
            await conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                    " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)"
                    " FROM pg_class c WHERE c.relkind = 'r' AND c.relname = ANY(:names)"
                ),
                {"names": sorted(tenant_tables & existing)},
            )
        ).all()
    unprotected = [r[0] for r in rows if not (r[1] and r[2] and r[3] >= 1)]
    assert unprotected == []
    assert len(rows) == len(tenant_tables & existing) >= 17
