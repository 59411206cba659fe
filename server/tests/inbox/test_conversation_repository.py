"""The conversation repository on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from inbox.conftest import Seeded
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.contacts.adapters.sql import SqlContactRepository
from linktor.server.contacts.app.resolve import resolve_contact
from linktor.server.contacts.domain.contact import Contact
from linktor.server.conversations.adapters.memory import InMemoryConversationRepository
from linktor.server.conversations.adapters.sql import SqlConversationRepository
from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import Aborted, AlreadyExists
from linktor.server.shared.ids import new_id

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
WA = ChannelType.WHATSAPP


async def new_contact(engine: AsyncEngine, seeded: Seeded, address: str) -> Contact:
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        made = await resolve_contact(
            SqlContactRepository(uow.connection),
            seeded.tenant_id,
            WA,
            address,
            "Ana",
            seeded.whatsapp,
            NOW,
        )
        await uow.commit()
    return made


def start(seeded: Seeded, contact: Contact) -> Conversation:
    return Conversation.start(new_id(), seeded.tenant_id, seeded.whatsapp, WA, contact.id, NOW)


async def test_add_get_find_join_channel_type_and_contact_name(
    engine: AsyncEngine, seeded: Seeded
) -> None:
    ana = await new_contact(engine, seeded, "+5511999990001")
    conversation = start(seeded, ana)
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlConversationRepository(uow.connection)
        await repo.add(conversation)
        with pytest.raises(AlreadyExists):
            await repo.add(start(seeded, ana))  # one per (channel, contact)
        await uow.commit()
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlConversationRepository(uow.connection)
        got = await repo.get(seeded.tenant_id, conversation.id, for_update=True)
        found = await repo.find(seeded.tenant_id, seeded.whatsapp, ana.id)
        other = await repo.find(seeded.tenant_id, seeded.telegram, ana.id)
        hidden = await repo.get("another-tenant", conversation.id)
    assert got == found == replace(conversation, contact_display_name="Ana")
    assert other is None and hidden is None


async def test_update_is_version_checked_and_round_trips_every_field(
    engine: AsyncEngine, seeded: Seeded
) -> None:
    ana = await new_contact(engine, seeded, "+5511999990001")
    conversation = start(seeded, ana)
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        await SqlConversationRepository(uow.connection).add(conversation)
        await uow.commit()
    later = NOW + timedelta(minutes=5)
    changed, seq = conversation.record_inbound("hello there", later, timedelta(hours=24))
    changed = replace(
        changed.assign("u1", later).snooze(later + timedelta(hours=1), later),
        subject="Order 42",
        tags=("billing",),
    )
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlConversationRepository(uow.connection)
        saved = await repo.update(changed, expected_version=1)
        with pytest.raises(Aborted):
            await repo.update(changed, expected_version=1)
        await uow.commit()
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        stored = await SqlConversationRepository(uow.connection).get(
            seeded.tenant_id, conversation.id
        )
    assert seq == 1 and saved.version == 2
    assert stored == replace(saved, contact_display_name="Ana")
    assert stored.status is ConversationStatus.SNOOZED and stored.unread_count == 1


async def test_locked_sends_get_a_gap_free_sequence(engine: AsyncEngine, seeded: Seeded) -> None:
    ana = await new_contact(engine, seeded, "+5511999990001")
    conversation = start(seeded, ana)
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        await SqlConversationRepository(uow.connection).add(conversation)
        await uow.commit()

    async def send(text: str) -> int:
        async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
            repo = SqlConversationRepository(uow.connection)
            current = await repo.get(seeded.tenant_id, conversation.id, for_update=True)
            assert current is not None
            updated, seq = current.record_outbound(text, NOW)
            await asyncio.sleep(0.01)
            await repo.update(updated, expected_version=current.version)
            await uow.commit()
            return seq

    seqs = await asyncio.gather(*(send(f"m{i}") for i in range(6)))
    assert sorted(seqs) == [1, 2, 3, 4, 5, 6]


async def test_list_for_contact_due_snoozes_and_delete(engine: AsyncEngine, seeded: Seeded) -> None:
    ana = await new_contact(engine, seeded, "+5511999990001")
    on_wa = start(seeded, ana).snooze(NOW + timedelta(minutes=10), NOW)
    on_tg = replace(
        Conversation.start(
            new_id(),
            seeded.tenant_id,
            seeded.telegram,
            ChannelType.TELEGRAM,
            ana.id,
            NOW + timedelta(seconds=1),
        ),
    )
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlConversationRepository(uow.connection)
        await repo.add(on_wa)
        await repo.add(on_tg)
        await uow.commit()
    async with SqlUnitOfWork(engine, privileged=True) as uow:
        repo = SqlConversationRepository(uow.connection)
        early = await repo.due_snoozes(NOW + timedelta(minutes=9), limit=10)
        due = await repo.due_snoozes(NOW + timedelta(minutes=10), limit=10)
    assert (seeded.tenant_id, on_wa.id) not in early
    assert (seeded.tenant_id, on_wa.id) in due
    async with SqlUnitOfWork(engine, tenant_id=seeded.tenant_id) as uow:
        repo = SqlConversationRepository(uow.connection)
        both = await repo.list_for_contact(seeded.tenant_id, ana.id, for_update=True)
        await repo.delete(seeded.tenant_id, [on_wa.id])
        left = await repo.list_for_contact(seeded.tenant_id, ana.id)
        await uow.commit()
    assert [c.id for c in both] == [on_wa.id, on_tg.id]
    assert [c.id for c in left] == [on_tg.id]


async def test_the_in_memory_fake_behaves_alike() -> None:
    repo = InMemoryConversationRepository()
    first = Conversation.start("c1", "t1", "ch1", WA, "k1", NOW)
    await repo.add(first)
    with pytest.raises(AlreadyExists):
        await repo.add(Conversation.start("c2", "t1", "ch1", WA, "k1", NOW))
    assert await repo.find("t1", "ch1", "k1", for_update=True) == first
    assert await repo.get("t2", "c1") is None
    saved = await repo.update(first.resolve(NOW), expected_version=1)
    with pytest.raises(Aborted):
        await repo.update(saved, expected_version=1)
    assert (await repo.list_for_contact("t1", "k1"))[0].status is ConversationStatus.RESOLVED
