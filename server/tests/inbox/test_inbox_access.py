"""Who may call the contacts and conversations RPCs, through the real server and its central
permission table: viewers read but never write; another tenant's resources answer NOT_FOUND
for every RPC (and stay unchanged). On SQLite and PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from lktest.identity import bearer, fails
from lktest.inbox import START, Inbound, InboxServer, TenantWithChannels

from linktor.server.identity.api.permissions import PERMISSIONS
from linktor.v1 import common_pb2, contact_pb2, conversation_pb2, user_pb2

C, V = contact_pb2, conversation_pb2
Meta = tuple[tuple[str, str], ...]
WA = common_pb2.CHANNEL_TYPE_WHATSAPP


@dataclass
class Target:
    """Names of one tenant's resources the calls aim at."""

    tenant: str
    contact: str
    other_contact: str
    conversation: str
    message: str
    user: str
    # Call metadata of that user, an agent.
    agent: Meta


def later() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(START.replace(year=2027))
    return stamp


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


# (RPC, whether it writes, the call: (server, target, call metadata) -> awaitable)
CALLS: list[tuple[str, bool, Callable[[InboxServer, Target, Meta], Any]]] = [
    ("ContactService/CreateContact", True, lambda s, b, m: s.contacts.CreateContact(C.CreateContactRequest(parent=b.tenant, contact=C.Contact(display_name="x")), metadata=m)),
    ("ContactService/GetContact", False, lambda s, b, m: s.contacts.GetContact(C.GetContactRequest(name=b.contact), metadata=m)),
    ("ContactService/ListContacts", False, lambda s, b, m: s.contacts.ListContacts(C.ListContactsRequest(parent=b.tenant), metadata=m)),
    ("ContactService/UpdateContact", True, lambda s, b, m: s.contacts.UpdateContact(C.UpdateContactRequest(contact=C.Contact(name=b.contact, display_name="pwned"), update_mask=mask("display_name")), metadata=m)),
    ("ContactService/DeleteContact", True, lambda s, b, m: s.contacts.DeleteContact(C.DeleteContactRequest(name=b.contact), metadata=m)),
    ("ContactService/AddContactIdentity", True, lambda s, b, m: s.contacts.AddContactIdentity(C.AddContactIdentityRequest(name=b.contact, identity=C.ContactIdentity(channel_type=WA, address="+5511777770000")), metadata=m)),
    ("ContactService/RemoveContactIdentity", True, lambda s, b, m: s.contacts.RemoveContactIdentity(C.RemoveContactIdentityRequest(name=b.contact, channel_type=WA, address="+5511000000001"), metadata=m)),
    ("ContactService/MergeContacts", True, lambda s, b, m: s.contacts.MergeContacts(C.MergeContactsRequest(name=b.contact, source_contacts=[b.other_contact]), metadata=m)),
    ("ConversationService/GetConversation", False, lambda s, b, m: s.conversations.GetConversation(V.GetConversationRequest(name=b.conversation), metadata=m)),
    ("ConversationService/ListConversations", False, lambda s, b, m: s.conversations.ListConversations(V.ListConversationsRequest(parent=b.tenant), metadata=m)),
    ("ConversationService/UpdateConversation", True, lambda s, b, m: s.conversations.UpdateConversation(V.UpdateConversationRequest(conversation=V.Conversation(name=b.conversation, subject="pwned"), update_mask=mask("subject")), metadata=m)),
    ("ConversationService/AssignConversation", True, lambda s, b, m: s.conversations.AssignConversation(V.AssignConversationRequest(name=b.conversation, assignee=b.user), metadata=m)),
    ("ConversationService/ResolveConversation", True, lambda s, b, m: s.conversations.ResolveConversation(V.ResolveConversationRequest(name=b.conversation), metadata=m)),
    ("ConversationService/ReopenConversation", True, lambda s, b, m: s.conversations.ReopenConversation(V.ReopenConversationRequest(name=b.conversation), metadata=m)),
    ("ConversationService/SnoozeConversation", True, lambda s, b, m: s.conversations.SnoozeConversation(V.SnoozeConversationRequest(name=b.conversation, snooze_time=later()), metadata=m)),
    ("ConversationService/MarkConversationRead", True, lambda s, b, m: s.conversations.MarkConversationRead(V.MarkConversationReadRequest(name=b.conversation, last_read_message=b.message), metadata=m)),
    ("ConversationService/SendTypingIndicator", True, lambda s, b, m: s.conversations.SendTypingIndicator(V.SendTypingIndicatorRequest(name=b.conversation, typing=True), metadata=m)),
]  # fmt: skip


def test_every_rpc_of_both_services_is_in_the_permission_table_and_tested() -> None:
    services = ("ContactService", "ConversationService")
    in_table = {
        m.split(".v1.", 1)[1] for m in PERMISSIONS if m.split(".v1.")[1].startswith(services)
    }
    rpcs = {
        f"{service.name}/{method.name}"
        for module in (contact_pb2, conversation_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert in_table == rpcs == {name for name, _, _ in CALLS}


async def target_of(inbox: InboxServer, t: TenantWithChannels) -> Target:
    ana: Inbound = await inbox.inbound(t.id, t.whatsapp, "+5511000000001", "hi", START, name="A")
    bea = await inbox.inbound(t.id, t.whatsapp, "+5511000000002", "yo", START, name="B")
    agent_id, agent = await inbox.user(t.tenant, user_pb2.ROLE_AGENT)
    conversation = ana.conversation_name(t.id)
    return Target(
        tenant=t.name,
        contact=ana.contact_name(t.id),
        other_contact=bea.contact_name(t.id),
        conversation=conversation,
        message=f"{conversation}/messages/{ana.message_id}",
        user=f"{t.name}/users/{agent_id}",
        agent=agent,
    )


async def state(inbox: InboxServer, t: TenantWithChannels) -> tuple[bytes, ...]:
    """Everything of ``t`` the calls could change (read with its own key)."""
    contacts = await inbox.contacts.ListContacts(
        C.ListContactsRequest(parent=t.name), metadata=t.key
    )
    conversations = await inbox.conversations.ListConversations(V.ListConversationsRequest(parent=t.name), metadata=t.key)  # fmt: skip
    return (contacts.SerializeToString(), conversations.SerializeToString())


@pytest.mark.parametrize("credential", ["user", "api_key"])
async def test_another_tenant_gets_not_found_for_every_rpc(
    inbox: InboxServer, credential: str
) -> None:
    a, b = await inbox.tenant(), await inbox.tenant()
    target = await target_of(inbox, b)
    meta: Meta = a.key
    if credential == "user":
        meta = bearer((await inbox.ids.login(a.tenant.owner_email)).tokens.access_token)
    before = await state(inbox, b)
    leaks = []
    for rpc, _writes, call in CALLS:
        failure = await fails(call(inbox, target, meta))
        if failure.code != grpc.StatusCode.NOT_FOUND:
            leaks.append((rpc, failure.code, failure.message))
    assert leaks == []
    assert await state(inbox, b) == before


async def test_viewers_read_but_never_write(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    target = await target_of(inbox, t)
    _viewer_id, viewer = await inbox.user(t.tenant, user_pb2.ROLE_VIEWER)
    before = await state(inbox, t)
    wrong = []
    for rpc, writes, call in CALLS:
        if writes:
            failure = await fails(call(inbox, target, viewer))
            if failure.code != grpc.StatusCode.PERMISSION_DENIED:
                wrong.append((rpc, failure.code))
        else:
            await call(inbox, target, viewer)
    assert wrong == []
    assert await state(inbox, t) == before
    # An agent may write.
    await inbox.conversations.ResolveConversation(
        V.ResolveConversationRequest(name=target.conversation), metadata=target.agent
    )
