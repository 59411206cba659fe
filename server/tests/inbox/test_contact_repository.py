"""The contact repository on SQLite and PostgreSQL, and resolve_contact on top of it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from inbox.conftest import Seeded
from lktest.seed import seed_tenant
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.contacts.adapters.memory import InMemoryContactRepository
from linktor.server.contacts.adapters.sql import SqlContactRepository
from linktor.server.contacts.app.resolve import resolve_contact
from linktor.server.contacts.domain.contact import Contact, Identity
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.domain_events import RecordedEvents
from linktor.server.shared.errors import Aborted, AlreadyExists
from linktor.server.shared.ids import new_id

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
WA = ChannelType.WHATSAPP


def contact(tenant_id: str, *identities: Identity, name: str = "Ana") -> Contact:
    return Contact(
        id=new_id(),
        tenant_id=tenant_id,
        display_name=name,
        create_time=NOW,
        update_time=NOW,
        identities=identities,
        tags=("vip",),
        attributes={"plan": "gold"},
    )


def wa(address: str) -> Identity:
    return Identity(WA, address, None, "", NOW)


async def test_add_get_and_find_by_identity(engine: AsyncEngine, seeded: Seeded) -> None:
    ana = contact(seeded.tenant_id, wa("+5511999990001"), Identity(ChannelType.TELEGRAM, "42"))
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        await SqlContactRepository(uow.connection).add(ana)
        await uow.commit()
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlContactRepository(uow.connection)
        stored = await repo.get(seeded.tenant_id, ana.id)
        found = await repo.find_by_identity(seeded.tenant_id, WA, "+5511999990001")
        missing = await repo.find_by_identity(seeded.tenant_id, WA, "+5511999990002")
    assert stored is not None and found == stored
    assert stored.identities[1] == replace(ana.identities[1], create_time=NOW)
    assert (stored.tags, stored.attributes, stored.version) == (("vip",), {"plan": "gold"}, 1)
    assert missing is None


async def test_another_tenants_contact_is_invisible(engine: AsyncEngine, seeded: Seeded) -> None:
    other_tenant = await seed_tenant(engine)
    theirs = contact(other_tenant, wa("+5511999990001"))
    async with SqlUnitOfWork(engine, tenant_id=other_tenant) as uow:
        await SqlContactRepository(uow.connection).add(theirs)
        await uow.commit()
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlContactRepository(uow.connection)
        assert await repo.get(seeded.tenant_id, theirs.id) is None
        if engine.dialect.name == "postgresql":  # row-level security, defence in depth
            assert await repo.get(other_tenant, theirs.id) is None
        # The same address in another tenant is another contact.
        await repo.add(contact(seeded.tenant_id, wa("+5511999990001")))
        await uow.commit()


async def test_a_taken_identity_is_already_exists_and_the_transaction_survives(
    engine: AsyncEngine, seeded: Seeded
) -> None:
    first = contact(seeded.tenant_id, wa("+5511999990001"))
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlContactRepository(uow.connection)
        await repo.add(first)
        with pytest.raises(AlreadyExists):
            await repo.add(contact(seeded.tenant_id, wa("+5511999990001"), name="Bea"))
        second = contact(seeded.tenant_id, wa("+5511999990002"), name="Bea")
        await repo.add(second)
        with pytest.raises(AlreadyExists):
            await repo.update(
                second.add_identity(wa("+5511999990001"), NOW), expected_version=second.version
            )
        await uow.commit()
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        stored = await SqlContactRepository(uow.connection).get(seeded.tenant_id, second.id)
    # The failed update left nothing behind: neither the row nor the identities changed.
    assert stored is not None and stored.version == 1
    assert [i.address for i in stored.identities] == ["+5511999990002"]


async def test_update_replaces_fields_and_identities_with_optimistic_versions(
    engine: AsyncEngine, seeded: Seeded
) -> None:
    ana = contact(seeded.tenant_id, wa("+5511999990001"), wa("+5511999990002"))
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        await SqlContactRepository(uow.connection).add(ana)
        await uow.commit()
    later = NOW + timedelta(minutes=1)
    changed = replace(
        ana.remove_identity(WA, "+5511999990001", later).add_identity(
            Identity(ChannelType.TELEGRAM, "77", None, "ana_t", later), later
        ),
        display_name="Ana Maria",
        email="ana@example.com",
        tags=("vip", "b2b"),
        attributes={},
    )
    changed = replace(
        changed,
        identities=tuple(
            replace(i, display_name="Ana WA") if i.address == "+5511999990002" else i
            for i in changed.identities
        ),
    )
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlContactRepository(uow.connection)
        saved = await repo.update(changed, expected_version=1)
        with pytest.raises(Aborted):
            await repo.update(changed, expected_version=1)
        await uow.commit()
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        stored = await SqlContactRepository(uow.connection).get(seeded.tenant_id, ana.id)
    assert saved.version == 2 and stored == saved


async def test_delete_removes_the_contact_and_its_identities(
    engine: AsyncEngine, seeded: Seeded
) -> None:
    ana = contact(seeded.tenant_id, wa("+5511999990001"))
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlContactRepository(uow.connection)
        await repo.add(ana)
        with pytest.raises(Aborted):
            await repo.delete(seeded.tenant_id, ana.id, expected_version=7)
        await repo.delete(seeded.tenant_id, ana.id, expected_version=1)
        # The identity is free again.
        await repo.add(contact(seeded.tenant_id, wa("+5511999990001")))
        await uow.commit()


async def test_resolve_contact_finds_or_creates(engine: AsyncEngine, seeded: Seeded) -> None:
    events = RecordedEvents()
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlContactRepository(uow.connection)
        made = await resolve_contact(
            repo,
            seeded.tenant_id,
            WA,
            "+55 (11) 99999-0001",
            "Ana",
            seeded.whatsapp,
            NOW,
            events=events,
        )
        again = await resolve_contact(
            repo, seeded.tenant_id, WA, "5511999990001", "", None, NOW, events=events
        )
        await uow.commit()
    assert again == made and events.types == ["contact.created"]
    assert made.display_name == "Ana"
    assert made.identities == (Identity(WA, "+5511999990001", seeded.whatsapp, "Ana", NOW),)


async def test_concurrent_first_messages_from_one_address_make_one_contact(
    engine: AsyncEngine, seeded: Seeded
) -> None:
    async def resolve() -> Contact:
        async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
            found = await resolve_contact(
                SqlContactRepository(uow.connection),
                seeded.tenant_id,
                WA,
                "+5511999990009",
                "Ana",
                seeded.whatsapp,
                NOW,
            )
            await asyncio.sleep(0.05)  # hold the transaction so the others overlap
            await uow.commit()
            return found

    results = await asyncio.gather(*(resolve() for _ in range(5)))
    assert len({c.id for c in results}) == 1


async def test_the_in_memory_fake_behaves_alike() -> None:
    repo = InMemoryContactRepository()
    made = await resolve_contact(repo, "t1", WA, "+5511999990001", "", None, NOW)
    assert made.display_name == "+5511999990001"
    assert await resolve_contact(repo, "t1", WA, "+5511999990001", "", None, NOW) == made
    assert await repo.get("t2", made.id) is None
    with pytest.raises(AlreadyExists):
        await repo.add(contact("t1", wa("+5511999990001")))
    saved = await repo.update(replace(made, display_name="Ana"), expected_version=1)
    with pytest.raises(Aborted):
        await repo.update(saved, expected_version=1)
