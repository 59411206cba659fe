"""ConversationService through the real gRPC server, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2
from lktest.identity import fails
from lktest.inbox import START, Inbound, InboxServer, TenantWithChannels
from sqlalchemy import select

from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.messaging.adapters.tables import messages
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.ids import new_id
from linktor.v1 import conversation_pb2, user_pb2

S = conversation_pb2
M = timedelta(minutes=1)
OPEN, PENDING = S.CONVERSATION_STATUS_OPEN, S.CONVERSATION_STATUS_PENDING
RESOLVED, SNOOZED = S.CONVERSATION_STATUS_RESOLVED, S.CONVERSATION_STATUS_SNOOZED


def stamp(value: object) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)  # type: ignore[arg-type]
    return ts


async def listed(inbox: InboxServer, t: TenantWithChannels, **request: object) -> list[str]:
    """Names of every page of a ListConversations request, page size 2."""
    names: list[str] = []
    token = ""
    while True:
        page = await inbox.conversations.ListConversations(
            S.ListConversationsRequest(parent=t.name, page_size=2, page_token=token, **request),  # type: ignore[arg-type]
            metadata=t.key,
        )
        names += [c.name for c in page.conversations]
        token = page.next_page_token
        if not token:
            return names


async def get(inbox: InboxServer, t: TenantWithChannels, c: Inbound) -> S.Conversation:
    return await inbox.conversations.GetConversation(
        S.GetConversationRequest(name=c.conversation_name(t.id)), metadata=t.key
    )


async def test_filters_and_text_search(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    ana = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "Order 42 delayed", START - 4 * M, name="Ana")  # fmt: skip
    bruno = await inbox.inbound(t.id, t.whatsapp, "+5511000000002", "hello", START - 3 * M, name="Bruno")  # fmt: skip
    carla = await inbox.inbound(t.id, t.telegram, "carla", "refund please", START - 2 * M, name="Carla", channel_type=ChannelType.TELEGRAM)  # fmt: skip
    dora = await inbox.inbound(t.id, t.whatsapp, "+5511000000004", "ok", START - M, name="Dora")
    agent_id, _ = await inbox.user(t.tenant, user_pb2.ROLE_AGENT)
    n = {x: x.conversation_name(t.id) for x in (ana, bruno, carla, dora)}

    await inbox.conversations.MarkConversationRead(S.MarkConversationReadRequest(name=n[bruno]), metadata=t.key)  # fmt: skip
    await inbox.conversations.AssignConversation(S.AssignConversationRequest(name=n[bruno], assignee=f"{t.name}/users/{agent_id}"), metadata=t.key)  # fmt: skip
    await inbox.conversations.ResolveConversation(S.ResolveConversationRequest(name=n[carla]), metadata=t.key)  # fmt: skip
    await inbox.conversations.SnoozeConversation(S.SnoozeConversationRequest(name=n[dora], snooze_time=stamp(START + M)), metadata=t.key)  # fmt: skip

    assert await listed(inbox, t) == [n[dora], n[carla], n[bruno], n[ana]]
    assert await listed(inbox, t, statuses=[OPEN]) == [n[bruno], n[ana]]
    assert await listed(inbox, t, statuses=[RESOLVED, SNOOZED]) == [n[dora], n[carla]]
    assert await listed(inbox, t, channel=f"{t.name}/channels/{t.telegram}") == [n[carla]]
    assert await listed(inbox, t, assignee=f"{t.name}/users/{agent_id}") == [n[bruno]]
    assert await listed(inbox, t, unassigned=True) == [n[dora], n[carla], n[ana]]
    assert await listed(inbox, t, unread=True) == [n[dora], n[carla], n[ana]]
    assert await listed(inbox, t, contact=ana.contact_name(t.id)) == [n[ana]]
    assert await listed(inbox, t, query="REFUND") == [n[carla]]  # message text
    assert await listed(inbox, t, query="bru") == [n[bruno]]  # contact name
    assert await listed(inbox, t, query="o", statuses=[OPEN], unread=True) == [n[ana]]
    other = await inbox.tenant()
    assert await listed(inbox, other) == []

    for bad in (
        {"unassigned": True, "assignee": f"{t.name}/users/{agent_id}"},
        {"statuses": [S.CONVERSATION_STATUS_UNSPECIFIED]},
        {"channel": f"{other.name}/channels/{other.whatsapp}"},
        {"contact": "contacts/x"},
    ):
        failure = await fails(
            inbox.conversations.ListConversations(
                S.ListConversationsRequest(parent=t.name, **bad),
                metadata=t.key,
            )
        )
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, bad


async def test_update_assign_resolve_reopen_snooze(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    c = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "hi", START - M, name="Ana")
    name = c.conversation_name(t.id)
    conv = inbox.conversations
    key = t.key

    def update(mask: list[str], **fields: object) -> object:
        return conv.UpdateConversation(
            S.UpdateConversationRequest(
                conversation=S.Conversation(name=name, **fields),  # type: ignore[arg-type]
                update_mask=field_mask_pb2.FieldMask(paths=mask),
            ),
            metadata=key,
        )

    updated = await update(["status", "subject", "tags"], status=PENDING, subject=" Order  42 ", tags=["billing", "billing"])  # type: ignore[misc]  # fmt: skip
    assert (updated.status, updated.subject, list(updated.tags)) == (
        PENDING,
        "Order 42",
        ["billing"],
    )
    stale = await fails(update(["subject"], subject="x", etag='W/"1"'))
    assert stale.code == grpc.StatusCode.ABORTED
    bad_mask = await fails(update(["unread_count"]))
    assert bad_mask.code == grpc.StatusCode.INVALID_ARGUMENT
    no_time = await fails(update(["status"], status=SNOOZED))
    assert no_time.code == grpc.StatusCode.INVALID_ARGUMENT
    snoozed = await update(["status", "snooze_time"], status=SNOOZED, snooze_time=stamp(START + 10 * M))  # type: ignore[misc]  # fmt: skip
    assert snoozed.status == SNOOZED

    agent_id, _ = await inbox.user(t.tenant, user_pb2.ROLE_AGENT)
    assignee = f"{t.name}/users/{agent_id}"
    assigned = await conv.AssignConversation(S.AssignConversationRequest(name=name, assignee=assignee), metadata=key)  # fmt: skip
    assert assigned.assignee == assignee
    nobody = await fails(conv.AssignConversation(S.AssignConversationRequest(name=name, assignee=f"{t.name}/users/{new_id()}"), metadata=key))  # fmt: skip
    assert nobody.code == grpc.StatusCode.INVALID_ARGUMENT
    other = await inbox.tenant()
    foreign = await fails(conv.AssignConversation(S.AssignConversationRequest(name=name, assignee=f"{other.name}/users/{other.tenant.owner_user_id}"), metadata=key))  # fmt: skip
    assert foreign.code == grpc.StatusCode.INVALID_ARGUMENT
    await inbox.ids.stubs.users.DeactivateUser(user_pb2.DeactivateUserRequest(name=assignee), metadata=key)  # fmt: skip
    gone = await fails(conv.AssignConversation(S.AssignConversationRequest(name=name, assignee=assignee), metadata=key))  # fmt: skip
    assert gone.code == grpc.StatusCode.INVALID_ARGUMENT
    unassigned = await conv.AssignConversation(S.AssignConversationRequest(name=name, etag=assigned.etag), metadata=key)  # fmt: skip
    assert unassigned.assignee == ""

    resolved = await conv.ResolveConversation(S.ResolveConversationRequest(name=name), metadata=key)
    assert resolved.status == RESOLVED and resolved.HasField("resolve_time")
    again = await fails(conv.ResolveConversation(S.ResolveConversationRequest(name=name), metadata=key))  # fmt: skip
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    reopened = await conv.ReopenConversation(S.ReopenConversationRequest(name=name, etag=resolved.etag), metadata=key)  # fmt: skip
    assert reopened.status == OPEN
    past = await fails(conv.SnoozeConversation(S.SnoozeConversationRequest(name=name, snooze_time=stamp(START - M)), metadata=key))  # fmt: skip
    assert past.code == grpc.StatusCode.INVALID_ARGUMENT
    assert await inbox.event_types(t.id) == [
        "conversation.updated",  # pending, subject, tags
        "conversation.updated",  # snoozed
        "conversation.updated", "conversation.assigned",
        "conversation.updated", "conversation.assigned",  # unassigned
        "conversation.updated", "conversation.resolved",
        "conversation.updated",  # reopened
    ]  # fmt: skip


async def test_snoozed_conversations_wake_when_due(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    early = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "a", START - M)
    late = await inbox.inbound(t.id, t.whatsapp, "+5511000000002", "b", START - M)
    written = await inbox.inbound(t.id, t.whatsapp, "+5511000000003", "c", START - M)
    for c, minutes in ((early, 5), (late, 60), (written, 5)):
        await inbox.conversations.SnoozeConversation(
            S.SnoozeConversationRequest(
                name=c.conversation_name(t.id), snooze_time=stamp(START + minutes * M)
            ),
            metadata=t.key,
        )
    # The contact writes: the conversation reopens at once, whatever its snooze.
    await inbox.inbound(t.id, t.whatsapp, "+5511000000003", "again", START + M)
    assert (await get(inbox, t, written)).status == OPEN

    # The database may hold other tests' tenants (PostgreSQL): look at this tenant's only.
    await inbox.inbox.snooze_waker.wake_due()
    assert (await get(inbox, t, early)).status == SNOOZED
    inbox.clock.advance(5 * M)
    await inbox.inbox.snooze_waker.wake_due()
    woke = await get(inbox, t, early)
    assert (woke.status, woke.HasField("snooze_time")) == (OPEN, False)
    assert (await get(inbox, t, late)).status == SNOOZED
    inbox.clock.advance(timedelta(hours=1))
    await inbox.inbox.snooze_waker.wake_due()
    assert (await get(inbox, t, late)).status == OPEN
    assert (await inbox.event_types(t.id))[-2:] == ["conversation.updated"] * 2


async def statuses(inbox: InboxServer, conversation_id: str) -> list[str]:
    async with SqlUnitOfWork(inbox.engine, privileged=True) as uow:
        rows = await uow.connection.execute(
            select(messages.c.status)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.seq)
        )
        return [r.status for r in rows]


async def test_mark_read_up_to_a_message_then_all(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    first = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "1", START - 3 * M)
    second = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "2", START - 2 * M)
    third = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "3", START - M)
    name = first.conversation_name(t.id)
    conv = inbox.conversations
    assert (await get(inbox, t, first)).unread_count == 3

    partly = await conv.MarkConversationRead(
        S.MarkConversationReadRequest(name=name, last_read_message=f"{name}/messages/{second.message_id}"),
        metadata=t.key,
    )  # fmt: skip
    assert partly.unread_count == 1
    assert await statuses(inbox, first.conversation_id) == ["READ", "READ", "DELIVERED"]
    everything = await conv.MarkConversationRead(S.MarkConversationReadRequest(name=name), metadata=t.key)  # fmt: skip
    assert everything.unread_count == 0
    assert await statuses(inbox, first.conversation_id) == ["READ"] * 3
    unchanged = await conv.MarkConversationRead(S.MarkConversationReadRequest(name=name), metadata=t.key)  # fmt: skip
    assert unchanged.etag == everything.etag
    assert inbox.receipts.calls == [
        (first.conversation_id, [first.message_id, second.message_id]),
        (first.conversation_id, [third.message_id]),
    ]
    other = await inbox.inbound(t.id, t.whatsapp, "+5511000000009", "x", START - M)
    wrong = await fails(
        conv.MarkConversationRead(
            S.MarkConversationReadRequest(
                name=name,
                last_read_message=f"{other.conversation_name(t.id)}/messages/{other.message_id}",
            ),
            metadata=t.key,
        )
    )
    assert wrong.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_typing_is_not_supported_yet(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    c = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "hi", START - M)
    answer = await inbox.conversations.SendTypingIndicator(
        S.SendTypingIndicatorRequest(name=c.conversation_name(t.id), typing=True), metadata=t.key
    )
    assert answer.supported is False
