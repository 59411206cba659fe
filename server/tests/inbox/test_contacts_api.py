"""ContactService through the real gRPC server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from lktest.identity import fails
from lktest.inbox import START, InboxServer, TenantWithChannels
from sqlalchemy import select

from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.messaging.adapters.tables import messages
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.ids import new_id
from linktor.v1 import common_pb2, contact_pb2, conversation_pb2

WA = common_pb2.CHANNEL_TYPE_WHATSAPP
TG = common_pb2.CHANNEL_TYPE_TELEGRAM


def wa(address: str) -> contact_pb2.ContactIdentity:
    return contact_pb2.ContactIdentity(channel_type=WA, address=address)


async def create(
    inbox: InboxServer, t: TenantWithChannels, request_id: str = "", **fields: Any
) -> contact_pb2.Contact:
    return await inbox.contacts.CreateContact(
        contact_pb2.CreateContactRequest(
            parent=t.name,
            contact=contact_pb2.Contact(**fields),
            request_id=request_id,
        ),
        metadata=t.key,
    )


async def violations(call: Awaitable[object]) -> dict[str, str]:
    """The BadRequest field violations of a call that must fail with INVALID_ARGUMENT."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
    found: dict[str, str] = {}
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.update({v.field: v.description for v in bad.field_violations})
    return found


async def test_create_get_and_idempotent_retry(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    made = await create(
        inbox, t, "req-1", display_name=" Ana ", email="Ana@Example.com",
        phone_number="+55 (11) 99999-0001", locale="pt-BR", tags=["vip", "vip", "b2b"],
        attributes={"plan": "gold"}, identities=[wa("+55 11 99999-0001")],
    )  # fmt: skip
    assert made.display_name == "Ana" and made.email == "ana@example.com"
    assert made.phone_number == "+5511999990001" and list(made.tags) == ["vip", "b2b"]
    assert [(i.channel_type, i.address) for i in made.identities] == [(WA, "+5511999990001")]
    assert made.etag and made.create_time.ToDatetime() == START.replace(tzinfo=None)
    again = await create(
        inbox, t, "req-1", display_name=" Ana ", email="Ana@Example.com",
        phone_number="+55 (11) 99999-0001", locale="pt-BR", tags=["vip", "vip", "b2b"],
        attributes={"plan": "gold"}, identities=[wa("+55 11 99999-0001")],
    )  # fmt: skip
    assert again == made
    reused = await fails(create(inbox, t, "req-1", display_name="Someone else"))
    assert (reused.code, reused.reason) == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")
    got = await inbox.contacts.GetContact(
        contact_pb2.GetContactRequest(name=made.name), metadata=t.key
    )
    assert got == made
    assert await inbox.event_types(t.id) == ["contact.created"]


async def test_identity_belongs_to_one_contact(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    ana = await create(inbox, t, display_name="Ana", identities=[wa("+5511999990001")])
    taken = await fails(create(inbox, t, display_name="Bea", identities=[wa("5511999990001")]))
    assert taken.code == grpc.StatusCode.ALREADY_EXISTS
    bea = await create(inbox, t, display_name="Bea")
    taken = await fails(
        inbox.contacts.AddContactIdentity(
            contact_pb2.AddContactIdentityRequest(name=bea.name, identity=wa("+5511999990001")),
            metadata=t.key,
        )
    )
    assert taken.code == grpc.StatusCode.ALREADY_EXISTS
    added = await inbox.contacts.AddContactIdentity(
        contact_pb2.AddContactIdentityRequest(
            name=bea.name, identity=contact_pb2.ContactIdentity(channel_type=TG, address="42")
        ),
        metadata=t.key,
    )
    assert [i.address for i in added.identities] == ["42"]
    removed = await inbox.contacts.RemoveContactIdentity(
        contact_pb2.RemoveContactIdentityRequest(
            name=ana.name, channel_type=WA, address="+55 11 99999-0001"
        ),
        metadata=t.key,
    )
    assert list(removed.identities) == []
    missing = await fails(
        inbox.contacts.RemoveContactIdentity(
            contact_pb2.RemoveContactIdentityRequest(
                name=ana.name, channel_type=WA, address="+5511999990001"
            ),
            metadata=t.key,
        )
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND
    # Freed: the address can now go to Bea.
    await inbox.contacts.AddContactIdentity(
        contact_pb2.AddContactIdentityRequest(name=bea.name, identity=wa("+5511999990001")),
        metadata=t.key,
    )


async def test_validation_names_every_bad_field(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    found = await violations(
        create(
            inbox, t, display_name="x" * 201, email="nope", phone_number="12",
            locale="not a locale", avatar_url="ftp://x", tags=["ok", "", "t" * 65],
            attributes={"k" * 65: "v", "big": "v" * 1025},
            identities=[wa("not a phone"), contact_pb2.ContactIdentity(address="x")],
        )
    )  # fmt: skip
    assert set(found) == {
        "contact.identities[0].address",
        "contact.identities[1].channel_type",
        "contact.display_name",
        "contact.email",
        "contact.phone_number",
        "contact.locale",
        "contact.avatar_url",
        "contact.tags[1]",
        "contact.tags[2]",
        f"contact.attributes[{'k' * 65!r}]",
        "contact.attributes['big']",
    }
    too_many = await violations(create(inbox, t, tags=[f"t{i}" for i in range(51)]))
    assert set(too_many) == {"contact.tags"}
    found = await violations(create(inbox, t, attributes={f"k{i}": "v" for i in range(51)}))
    assert set(found) == {"contact.attributes"}


async def names_of(inbox: InboxServer, t: TenantWithChannels, **request: object) -> list[str]:
    """Display names of every page of a ListContacts request (page size 2)."""
    shown: list[str] = []
    token = ""
    while True:
        page = await inbox.contacts.ListContacts(
            contact_pb2.ListContactsRequest(
                parent=t.name,
                page_size=2,
                page_token=token,
                **request,  # type: ignore[arg-type]
            ),
            metadata=t.key,
        )
        shown += [c.display_name for c in page.contacts]
        token = page.next_page_token
        if not token:
            return shown


async def test_list_and_search(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    await create(inbox, t, display_name="Carla", email="carla@acme.io", tags=["vip", "b2b"])
    await create(inbox, t, display_name="Ana", phone_number="+5511999990001", tags=["vip"])
    await create(inbox, t, display_name="Bruno", identities=[wa("+5521988887777")])
    await create(
        inbox, t, display_name="Dora 100%_off",
        identities=[contact_pb2.ContactIdentity(channel_type=TG, address="dora_tg")],
    )  # fmt: skip
    await create(inbox, t, display_name="Ana", email="ana2@acme.io")  # same name: id breaks ties
    other = await inbox.tenant()
    await create(inbox, other, display_name="Ana")

    assert await names_of(inbox, t) == ["Ana", "Ana", "Bruno", "Carla", "Dora 100%_off"]
    assert await names_of(inbox, t, query="an") == ["Ana", "Ana"]
    assert await names_of(inbox, t, query="ACME") == ["Ana", "Carla"]
    assert await names_of(inbox, t, query="+55 (21) 98888-7777") == ["Bruno"]
    assert await names_of(inbox, t, query="99999") == ["Ana"]
    assert await names_of(inbox, t, query="dora_t") == ["Dora 100%_off"]
    assert await names_of(inbox, t, query="%_") == ["Dora 100%_off"]  # wildcards are literal
    assert await names_of(inbox, t, tags=["vip"]) == ["Ana", "Carla"]
    assert await names_of(inbox, t, tags=["vip", "b2b"]) == ["Carla"]
    assert await names_of(inbox, t, channel_type=TG) == ["Dora 100%_off"]
    assert await names_of(inbox, t, channel_type=WA, query="bru") == ["Bruno"]

    first = await inbox.contacts.ListContacts(
        contact_pb2.ListContactsRequest(parent=t.name, page_size=2, query="a"), metadata=t.key
    )
    other_filter = await fails(
        inbox.contacts.ListContacts(
            contact_pb2.ListContactsRequest(
                parent=t.name, page_size=2, query="b", page_token=first.next_page_token
            ),
            metadata=t.key,
        )
    )
    assert other_filter.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_update_with_masks_and_etags(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    made = await create(inbox, t, display_name="Ana", email="ana@x.io", tags=["a"])

    def update(contact: contact_pb2.Contact, *paths: str) -> Awaitable[Any]:
        return inbox.contacts.UpdateContact(
            contact_pb2.UpdateContactRequest(
                contact=contact, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
            ),
            metadata=t.key,
        )

    renamed = await update(
        contact_pb2.Contact(name=made.name, display_name="Ana M"), "display_name"
    )
    assert (renamed.display_name, renamed.email, list(renamed.tags)) == ("Ana M", "ana@x.io", ["a"])
    # `*` replaces every updatable field: unset ones are cleared.
    replaced = await update(
        contact_pb2.Contact(name=made.name, display_name="Ana", attributes={"k": "v"}), "*"
    )
    assert (replaced.email, list(replaced.tags), dict(replaced.attributes)) == ("", [], {"k": "v"})
    # No mask: the fields the request sets.
    implicit = await update(contact_pb2.Contact(name=made.name, locale="pt-BR"))
    assert (implicit.locale, implicit.display_name) == ("pt-BR", "Ana")
    stale = await fails(
        update(
            contact_pb2.Contact(name=made.name, display_name="x", etag=made.etag), "display_name"
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    fresh = await update(
        contact_pb2.Contact(name=made.name, display_name="Ana C", etag=implicit.etag),
        "display_name",
    )
    assert fresh.display_name == "Ana C" and fresh.etag != implicit.etag
    bad = await violations(update(contact_pb2.Contact(name=made.name), "identities"))
    assert set(bad) == {"update_mask"}
    bad = await violations(update(contact_pb2.Contact(name=made.name, email="x"), "email"))
    assert set(bad) == {"contact.email"}
    assert await inbox.event_types(t.id) == ["contact.created"] + ["contact.updated"] * 4


async def message_order(inbox: InboxServer, conversation_id: str) -> list[tuple[int, str, str]]:
    """(seq, body text, contact id) of a conversation's messages."""
    async with SqlUnitOfWork(inbox.engine, privileged=True) as uow:
        rows = await uow.connection.execute(
            select(messages.c.seq, messages.c.body_text, messages.c.contact_id)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.seq)
        )
        return [(r.seq, r.body_text, r.contact_id) for r in rows]


async def test_merge_moves_identities_conversations_and_messages(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    m = timedelta(minutes=1)
    ana1 = await inbox.inbound(t.id, t.whatsapp, "+5511999990001", "one", START + m, name="Ana")
    ana2 = await inbox.inbound(t.id, t.whatsapp, "+5511999990002", "two", START + 2 * m)
    await inbox.inbound(t.id, t.whatsapp, "+5511999990001", "three", START + 3 * m)
    tg = await inbox.inbound(
        t.id, t.telegram, "ana_tg", "tg", START + 4 * m, channel_type=ChannelType.TELEGRAM
    )
    await inbox.contacts.UpdateContact(
        contact_pb2.UpdateContactRequest(
            contact=contact_pb2.Contact(
                name=ana2.contact_name(t.id), email="ana@x.io", tags=["b"], attributes={"k": "2"}
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["email", "tags", "attributes"]),
        ),
        metadata=t.key,
    )
    inbox.clock.advance(timedelta(hours=1))

    merged = await inbox.contacts.MergeContacts(
        contact_pb2.MergeContactsRequest(
            name=ana1.contact_name(t.id),
            source_contacts=[ana2.contact_name(t.id), tg.contact_name(t.id)],
        ),
        metadata=t.key,
    )
    assert sorted(i.address for i in merged.identities) == sorted(
        ["+5511999990001", "+5511999990002", "ana_tg"]
    )
    assert (merged.display_name, merged.email, list(merged.tags)) == ("Ana", "ana@x.io", ["b"])
    for gone in (ana2.contact_name(t.id), tg.contact_name(t.id), ana2.conversation_name(t.id)):
        get = (
            inbox.contacts.GetContact(contact_pb2.GetContactRequest(name=gone), metadata=t.key)
            if "/contacts/" in gone
            else inbox.conversations.GetConversation(
                conversation_pb2.GetConversationRequest(name=gone), metadata=t.key
            )
        )
        assert (await fails(get)).code == grpc.StatusCode.NOT_FOUND

    # The two WhatsApp conversations became one, messages in time order, numbered again.
    assert await message_order(inbox, ana1.conversation_id) == [
        (1, "one", ana1.contact_id),
        (2, "two", ana1.contact_id),
        (3, "three", ana1.contact_id),
    ]
    whatsapp = await inbox.conversations.GetConversation(
        conversation_pb2.GetConversationRequest(name=ana1.conversation_name(t.id)), metadata=t.key
    )
    assert (whatsapp.unread_count, whatsapp.last_message_preview) == (3, "three")
    assert whatsapp.last_activity_time.ToDatetime(UTC) == START + 3 * m
    moved = await inbox.conversations.GetConversation(
        conversation_pb2.GetConversationRequest(name=tg.conversation_name(t.id)), metadata=t.key
    )
    assert (moved.contact, moved.contact_display_name) == (merged.name, "Ana")
    assert await message_order(inbox, tg.conversation_id) == [(1, "tg", ana1.contact_id)]
    events = await inbox.event_types(t.id)
    assert events[-4:-2] == ["contact.merged", "conversation.deleted"]
    assert events[-2:] == ["conversation.updated"] * 2

    # The merged conversation keeps working: the next message takes seq 4.
    after = await inbox.inbound(t.id, t.whatsapp, "+5511999990002", "four", START + 5 * m)
    assert after.conversation_id == ana1.conversation_id
    assert (await message_order(inbox, ana1.conversation_id))[-1] == (4, "four", ana1.contact_id)


async def test_merge_refusals(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    ana = await create(inbox, t, display_name="Ana")
    other = await inbox.tenant()
    theirs = await create(inbox, other, display_name="Theirs")

    def merge(*sources: str, name: str = ana.name) -> Awaitable[Any]:
        return inbox.contacts.MergeContacts(
            contact_pb2.MergeContactsRequest(name=name, source_contacts=list(sources)),
            metadata=t.key,
        )

    assert set(await violations(merge())) == {"source_contacts"}
    assert set(await violations(merge(ana.name))) == {"source_contacts"}
    assert set(await violations(merge(theirs.name))) == {"source_contacts[0]"}
    missing = await fails(merge(f"{t.name}/contacts/{new_id()}"))
    assert missing.code == grpc.StatusCode.NOT_FOUND
    foreign = await fails(merge(f"{other.name}/contacts/{new_id()}", name=theirs.name))
    assert foreign.code == grpc.StatusCode.NOT_FOUND


async def test_delete_removes_conversations_and_messages(inbox: InboxServer) -> None:
    t = await inbox.tenant()
    ana = await inbox.inbound(t.id, t.whatsapp, "+5511999990001", "hello", START)
    kept = await inbox.inbound(t.id, t.whatsapp, "+5511999990009", "other", START)
    name = ana.contact_name(t.id)
    current = await inbox.contacts.GetContact(
        contact_pb2.GetContactRequest(name=name), metadata=t.key
    )
    stale = await fails(
        inbox.contacts.DeleteContact(
            contact_pb2.DeleteContactRequest(name=name, etag='W/"99"'), metadata=t.key
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    await inbox.contacts.DeleteContact(
        contact_pb2.DeleteContactRequest(name=name, etag=current.etag), metadata=t.key
    )
    gone = await fails(
        inbox.conversations.GetConversation(
            conversation_pb2.GetConversationRequest(name=ana.conversation_name(t.id)),
            metadata=t.key,
        )
    )
    assert gone.code == grpc.StatusCode.NOT_FOUND
    assert await message_order(inbox, ana.conversation_id) == []
    assert len(await message_order(inbox, kept.conversation_id)) == 1
    assert (await inbox.event_types(t.id))[-2:] == ["conversation.deleted", "contact.deleted"]
    # The address is free again: the contact's next message makes a new contact.
    again = await inbox.inbound(t.id, t.whatsapp, "+5511999990001", "back", START)
    assert again.contact_id != ana.contact_id
