"""Group commit of SendMessage (send_batch.py): concurrent sends share one transaction and
keep every rule of a send alone — sequences in acceptance order, one contact and one
conversation per new recipient, request_id answers, per-send failures, nothing half-stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from lktest.messaging import capabilities, running_pipeline
from messaging.conftest import Seeded
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.contacts.adapters.tables import contacts
from linktor.server.conversations.adapters.tables import conversations
from linktor.server.infra.bus.port import EventBus
from linktor.server.messaging.adapters.tables import messages
from linktor.server.messaging.app.send import SendCommand
from linktor.server.shared.errors import AlreadyExists, FailedPrecondition, NotFound
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import content_pb2

pytestmark = pytest.mark.integration


def text(body: str) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(text=content_pb2.TextContent(body=body))


def agent(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id="u1", role=Role.AGENT, email="a@x.io")


def to(seeded: Seeded, address: str, body: str, **kw: Any) -> SendCommand:
    return SendCommand(
        tenant_id=seeded.tenant_id,
        content=text(body),
        channel_id=seeded.channel_id,
        address=address,
        **kw,
    )


@contextmanager
def message_inserts(engine: AsyncEngine) -> Iterator[list[int]]:
    """Counts INSERT statements into messages (a batch writes its messages in one)."""
    seen: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO MESSAGES"):
            seen.append(1)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def _count(engine: AsyncEngine, table: Any, tenant_id: str) -> int:
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("SELECT set_config('linktor.bypass_rls', 'on', false)")
        return int(
            (
                await conn.execute(
                    select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
                )
            ).scalar_one()
        )


async def test_concurrent_sends_share_transactions_and_keep_sequences(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        # Known recipients first (their contact and conversation exist).
        for n in range(5):
            await p.send(agent(seeded.tenant_id), to(seeded, f"+1555020{n}", "hello"))
        with message_inserts(engine) as inserts:
            sent = await asyncio.gather(
                *(
                    p.send(agent(seeded.tenant_id), to(seeded, f"+1555020{n % 5}", f"m{n}"))
                    for n in range(40)
                )
            )
        assert len(inserts) < 10, "concurrent sends were not grouped"
        by_conversation: dict[str, list[int]] = {}
        for message in sent:
            by_conversation.setdefault(message.conversation_id, []).append(message.seq)
        # Each conversation: sequences 2..9, unique, in the order the calls were made.
        assert len(by_conversation) == 5
        for seqs in by_conversation.values():
            assert seqs == list(range(2, 10))
        assert await _count(engine, messages, seeded.tenant_id) == 45


async def test_new_recipients_in_one_batch_get_one_contact_and_conversation_each(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        sent = await asyncio.gather(
            *(
                p.send(agent(seeded.tenant_id), to(seeded, f"+1555030{n % 3}", f"m{n}"))
                for n in range(12)
            )
        )
        assert len({m.conversation_id for m in sent}) == 3
        assert sorted(m.seq for m in sent if m.address == "+15550300") == [1, 2, 3, 4]
        assert await _count(engine, contacts, seeded.tenant_id) == 3
        assert await _count(engine, conversations, seeded.tenant_id) == 3


async def test_a_failing_send_fails_alone(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        unknown = SendCommand(
            tenant_id=seeded.tenant_id, content=text("lost"), conversation_id="nope"
        )
        with message_inserts(engine) as inserts:
            outcomes = await asyncio.gather(
                p.send(agent(seeded.tenant_id), to(seeded, "+15550400", "a")),
                p.send(agent(seeded.tenant_id), unknown),
                p.send(agent(seeded.tenant_id), to(seeded, "+15550401", "b")),
                return_exceptions=True,
            )
        assert isinstance(outcomes[1], NotFound)
        assert [getattr(o, "body_text", None) for o in outcomes] == ["a", None, "b"]
        assert len(inserts) == 1  # the other two still went in one transaction


async def test_request_ids_repeated_in_one_batch(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        same = to(seeded, "+15550500", "once", request_id="k1", request_hash="h1")
        other_body = to(seeded, "+15550500", "else", request_id="k1", request_hash="h2")
        outcomes = await asyncio.gather(
            *(p.send(agent(seeded.tenant_id), same) for _ in range(5)),
            p.send(agent(seeded.tenant_id), other_body),
            return_exceptions=True,
        )
        first = outcomes[0]
        assert all(o == first for o in outcomes[:5])
        assert isinstance(outcomes[5], AlreadyExists)
        assert outcomes[5].reason == "REQUEST_ID_REUSED"
        assert await _count(engine, messages, seeded.tenant_id) == 1


async def test_a_refused_first_message_leaves_no_contact_behind(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    """A reply window refuses free-form text to a new recipient: as alone, the batch stores
    neither the contact nor the conversation it created for it, and the others still go."""
    async with running_pipeline(engine, bus, start_worker=False) as p:
        p.channels.add(
            seeded.tenant_id, seeded.channel_id, caps=capabilities(reply_window_hours=24)
        )
        template = content_pb2.MessageContent(
            template=content_pb2.TemplateContent(name="welcome", language="en_US")
        )
        welcome = SendCommand(
            tenant_id=seeded.tenant_id,
            content=template,
            channel_id=seeded.channel_id,
            address="+15550600",
        )
        outcomes = await asyncio.gather(
            p.send(agent(seeded.tenant_id), welcome),
            p.send(agent(seeded.tenant_id), to(seeded, "+15550601", "free text")),
            return_exceptions=True,
        )
        assert isinstance(outcomes[1], FailedPrecondition)
        assert not isinstance(outcomes[0], BaseException)
        assert await _count(engine, contacts, seeded.tenant_id) == 1
        assert await _count(engine, conversations, seeded.tenant_id) == 1
