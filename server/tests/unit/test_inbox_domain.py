"""Domain rules of contacts and conversations: field limits, merges, message interleaving;
and the snooze waker's loop. No I/O."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from linktor.server.contacts.domain.contact import Contact, Identity
from linktor.server.contacts.domain.fields import ContactFields, validate_fields
from linktor.server.contacts.domain.merge import merged_contact
from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.conversations.domain.merge import (
    MessagePosition,
    interleave,
    merged_conversation,
)
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import InvalidArgument

pytestmark = pytest.mark.unit

NOW = datetime(2026, 5, 1, tzinfo=UTC)
WA = ChannelType.WHATSAPP


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_interleave_keeps_each_side_in_order_and_prefers_the_survivor_on_ties() -> None:
    survivor = [MessagePosition("s1", 1, at(1)), MessagePosition("s2", 2, at(3))]
    # Seq order wins over time inside one conversation (clocks of replicas may disagree).
    merged = [MessagePosition("m1", 1, at(3)), MessagePosition("m2", 2, at(2))]
    assert interleave(survivor, merged) == ["s1", "s2", "m1", "m2"]
    assert interleave([], merged) == ["m1", "m2"]
    assert interleave(survivor, [MessagePosition("m0", 1, at(0))]) == ["m0", "s1", "s2"]


def conversation(cid: str, status: ConversationStatus, minutes: int, unread: int) -> Conversation:
    base = Conversation.start(cid, "t", "ch", WA, "k", at(0))
    return Conversation(
        **{
            **base.__dict__,
            "status": status,
            "last_activity_time": at(minutes),
            "last_message_preview": f"from {cid}",
            "unread_count": unread,
            "tags": (cid, "shared"),
        }
    )


def test_merged_conversation_adds_unread_takes_the_latest_and_the_most_urgent_status() -> None:
    survivor = conversation("s", ConversationStatus.RESOLVED, 5, 1)
    other = conversation("o", ConversationStatus.PENDING, 9, 2)
    merged = merged_conversation(survivor, other, 7, at(10))
    assert (merged.id, merged.status, merged.unread_count, merged.message_seq) == (
        "s",
        ConversationStatus.PENDING,
        3,
        7,
    )
    assert (merged.last_activity_time, merged.last_message_preview) == (at(9), "from o")
    assert merged.tags == ("s", "shared", "o")


def contact(cid: str, **fields: object) -> Contact:
    return Contact(cid, "t", f"name {cid}", NOW, NOW, **fields)  # type: ignore[arg-type]


def test_merged_contact_keeps_its_own_values_and_fills_the_gaps() -> None:
    survivor = contact(
        "a", identities=(Identity(WA, "+551"),), tags=("x",), attributes={"k": "a"}, email=""
    )
    sources = [
        contact(
            "b",
            identities=(Identity(WA, "+552"),),
            tags=("y", "x"),
            attributes={"k": "b", "j": "b"},
            email="b@x.io",
            locale="pt-BR",
        ),
        contact("c", email="c@x.io", avatar_url="https://c"),
    ]
    merged = merged_contact(survivor, sources, at(1))
    assert [i.address for i in merged.identities] == ["+551", "+552"]
    assert merged.tags == ("x", "y") and merged.attributes == {"k": "a", "j": "b"}
    assert (merged.email, merged.locale, merged.avatar_url) == ("b@x.io", "pt-BR", "https://c")
    assert merged.display_name == "name a" and merged.update_time == at(1)
    with pytest.raises(InvalidArgument):
        merged_contact(survivor, [survivor], at(1))
    with pytest.raises(InvalidArgument):
        merged_contact(survivor, [], at(1))
    with pytest.raises(InvalidArgument):
        merged_contact(survivor, [contact(str(i)) for i in range(11)], at(1))


def test_merged_tags_stay_within_the_limit() -> None:
    survivor = contact("a", tags=tuple(f"a{i}" for i in range(40)))
    merged = merged_contact(survivor, [contact("b", tags=tuple(f"b{i}" for i in range(40)))], NOW)
    assert len(merged.tags) == 50 and merged.tags[:40] == survivor.tags


def test_fields_are_normalized_and_empty_values_clear() -> None:
    values = validate_fields(
        ContactFields(
            display_name="  Ana ",
            email=" ANA@X.IO ",
            phone_number="+55 (11) 9999-0001",
            locale="",
            tags=(" a ", "a", "b"),
        )
    )
    assert (values.display_name, values.email, values.phone_number) == (
        "Ana",
        "ana@x.io",
        "+551199990001",
    )
    assert values.locale == "" and values.tags == ("a", "b") and values.avatar_url is None


class _Store:
    """Just enough of ConversationsStore for SnoozeWaker.run: counts passes."""

    def __init__(self) -> None:
        self.passes = 0
        self.enough = asyncio.Event()

    def privileged(self) -> _Store:
        self.passes += 1
        if self.passes >= 4:
            self.enough.set()
        return self

    async def __aenter__(self) -> _Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    @property
    def conversations(self) -> _Store:
        return self

    async def due_snoozes(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        if self.passes == 2:
            raise RuntimeError("database hiccup")  # logged; the loop goes on
        return []


async def test_snooze_waker_loops_until_stopped_and_survives_errors() -> None:
    from linktor.server.conversations.app.snooze_waker import SnoozeWaker
    from linktor.server.shared.clock import FakeClock

    store = _Store()
    waker = SnoozeWaker(store, FakeClock(), interval=timedelta(milliseconds=5))  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(waker.run(stop))
    await asyncio.wait_for(store.enough.wait(), 2)
    stop.set()
    await asyncio.wait_for(task, 1)
