"""SqlIdempotencyStore.claim_many on both backends: one statement claims new keys and keys
whose record expired, and leaves live records of other calls alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lktest.services import unique_id
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.idempotency.store import SqlIdempotencyStore
from linktor.server.shared.idempotency import IdempotencyRecord

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def record(name: str) -> IdempotencyRecord:
    return IdempotencyRecord(request_hash=f"hash-{name}", resource_name=name)


async def claim(
    engine: AsyncEngine, tenant: str, records: dict[str, IdempotencyRecord], now: datetime
) -> set[str]:
    async with SqlUnitOfWork(engine, privileged=True) as uow:
        claimed = await SqlIdempotencyStore(uow.connection).claim_many(
            tenant, "send", records, now, ttl=timedelta(hours=24)
        )
        await uow.commit()
    return claimed


async def live(engine: AsyncEngine, tenant: str, keys: list[str], now: datetime) -> dict[str, str]:
    async with SqlUnitOfWork(engine, privileged=True) as uow:
        found = await SqlIdempotencyStore(uow.connection).get_many(tenant, "send", keys, now)
    return {key: value.resource_name for key, value in found.items()}


@pytest.mark.parametrize("size", [1, 3, 250])
async def test_claim_many_takes_new_and_expired_keys_only(engine: AsyncEngine, size: int) -> None:
    tenant = unique_id("t")
    first = {f"k{n:03d}": record(f"first-{n}") for n in range(size)}
    assert await claim(engine, tenant, first, NOW) == set(first)

    # An hour later the keys are live: a second claim of the same keys takes none of them,
    # and a new key in the same batch is taken.
    again = {**{key: record("second") for key in first}, "new": record("new")}
    assert await claim(engine, tenant, again, NOW + timedelta(hours=1)) == {"new"}
    stored = await live(engine, tenant, [*first, "new"], NOW + timedelta(hours=1))
    assert stored == {**{k: v.resource_name for k, v in first.items()}, "new": "new"}

    # After the TTL every record has expired: the keys are claimed again, with new records.
    later = NOW + timedelta(hours=25)
    assert await claim(engine, tenant, again, later) == set(again)
    assert set((await live(engine, tenant, list(again), later)).values()) == {"second", "new"}
