"""ListConversations pages while new messages arrive: every conversation that existed when
the first page was read comes exactly once, in its activity order as of then (no duplicates,
no gaps), however the activity moves meanwhile. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

from lktest.inbox import START, InboxServer, TenantWithChannels

from linktor.v1 import contact_pb2, conversation_pb2

M = timedelta(minutes=1)


async def page(
    inbox: InboxServer, t: TenantWithChannels, token: str, size: int = 5, **filters: object
) -> tuple[list[str], str]:
    answer = await inbox.conversations.ListConversations(
        conversation_pb2.ListConversationsRequest(
            parent=t.name,
            page_size=size,
            page_token=token,
            **filters,  # type: ignore[arg-type]
        ),
        metadata=t.key,
    )
    return [c.name for c in answer.conversations], answer.next_page_token


async def seed(inbox: InboxServer, t: TenantWithChannels, count: int) -> list[str]:
    """``count`` conversations, two by two with the same activity time (ids break ties);
    their names most recent first."""
    made = []
    for i in range(count):
        at = START - (i // 2 + 1) * M
        made.append(await inbox.inbound(t.id, t.whatsapp, f"+55110000{i:05d}", f"m{i}", at))
    first, _ = await page(inbox, t, "", size=count)
    assert sorted(first) == sorted(c.conversation_name(t.id) for c in made)
    return first


async def test_activity_between_pages_moves_nothing_in_or_out(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    expected = await seed(inbox, t, 23)
    seen: list[str] = []
    names, token = await page(inbox, t, "")
    seen += names
    fresh = 0
    while token:
        inbox.clock.advance(M)
        now = inbox.clock.now()
        # An already listed conversation and one still to come get new messages, a new
        # conversation starts: none of it may show in the rest of this listing.
        done, to_come = seen[-1], expected[-1]
        for name, text in ((done, "again"), (to_come, "moved up")):
            conversation_id = name.rsplit("/", 1)[1]
            await bump(inbox, t, conversation_id, text, now)
        fresh += 1
        await inbox.inbound(t.id, t.whatsapp, f"+55119999{fresh:04d}", "new", now)
        names, token = await page(inbox, t, token)
        seen += names
    assert seen == expected

    # A new listing sees the moved conversations on top, then the new ones' order.
    now_first, _ = await page(inbox, t, "", size=3)
    assert expected[-1] in now_first


async def bump(
    inbox: InboxServer, t: TenantWithChannels, conversation_id: str, text: str, at: datetime
) -> None:
    """A new inbound message in an existing conversation (from its contact's address)."""
    got = await inbox.conversations.GetConversation(
        conversation_pb2.GetConversationRequest(name=f"{t.name}/conversations/{conversation_id}"),
        metadata=t.key,
    )
    contact = await inbox.contacts.GetContact(
        contact_pb2.GetContactRequest(name=got.contact), metadata=t.key
    )
    await inbox.inbound(t.id, t.whatsapp, contact.identities[0].address, text, at)


async def test_concurrent_activity_while_paging(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    expected = await seed(inbox, t, 30)
    addresses = [f"+55110000{i:05d}" for i in range(30)]
    stop = asyncio.Event()

    async def chatter() -> None:
        rng = random.Random(7)
        step = 0
        while not stop.is_set():
            step += 1
            at = START + step * timedelta(milliseconds=10)
            await inbox.inbound(t.id, t.whatsapp, rng.choice(addresses), f"c{step}", at)
            if step % 5 == 0:
                await inbox.inbound(t.id, t.whatsapp, f"+55118888{step:04d}", "new", at)
            await asyncio.sleep(0)

    inbox.clock.advance(timedelta(milliseconds=1))  # the snapshot: before all the chatter
    task = asyncio.create_task(chatter())
    seen: list[str] = []
    token = ""
    try:
        while True:
            names, token = await page(inbox, t, token, size=4)
            seen += names
            await asyncio.sleep(0.01)
            if not token:
                break
    finally:
        stop.set()
        await task
    assert seen == expected
