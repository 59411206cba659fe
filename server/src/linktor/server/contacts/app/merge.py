"""MergeContacts: other contacts of the tenant become part of a surviving one.

In one transaction: the merged contacts give up their identities, the survivor takes them
(with united tags, missing attributes and empty fields filled, see contacts.domain.merge),
their conversations move to the survivor (two conversations on the same channel become
one, see conversations.app.merging), their messages follow, and the merged contacts are
deleted. Events: contact.merged, and conversation.updated / conversation.deleted for each
conversation that moved or was absorbed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from linktor.server.contacts.app.contacts import check_etag, contact_name, load_contact
from linktor.server.contacts.app.ports import ContactsStore
from linktor.server.contacts.domain.contact import Contact
from linktor.server.contacts.domain.events import ContactsMerged
from linktor.server.contacts.domain.merge import merged_contact
from linktor.server.conversations.app.merging import merge_contact_conversations
from linktor.server.conversations.domain.events import ConversationDeleted, ConversationUpdated
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import InvalidArgument, NotFound
from linktor.server.shared.principal import Principal


class ContactMerger:
    def __init__(self, store: ContactsStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def merge(
        self,
        principal: Principal,
        tenant_id: str,
        survivor_id: str,
        source_ids: Sequence[str],
        etag: str = "",
    ) -> Contact:
        tenant_id = principal.own_tenant(tenant_id, contact_name(tenant_id, survivor_id))
        if len(set(source_ids)) != len(source_ids):
            raise InvalidArgument.for_field("source_contacts", "lists a contact twice")
        async with self._store.scoped(tenant_id) as uow:
            survivor = await load_contact(uow, tenant_id, survivor_id)
            check_etag(etag, survivor)
            sources = []
            for index, source_id in enumerate(source_ids):
                found = await uow.contacts.get(tenant_id, source_id)
                if found is None:
                    raise NotFound(
                        f"source_contacts[{index}]: {contact_name(tenant_id, source_id)} not found"
                    )
                sources.append(found)
            now = self._clock.now()
            merged = merged_contact(survivor, sources, now)
            # Identities are unique per tenant: the merged contacts release theirs first.
            released = [
                await uow.contacts.update(
                    replace(source, identities=(), update_time=now),
                    expected_version=source.version,
                )
                for source in sources
            ]
            saved = await uow.contacts.update(merged, expected_version=survivor.version)
            outcome = await merge_contact_conversations(
                uow, tenant_id, survivor.id, source_ids, saved.display_name, now
            )
            for source in released:
                await uow.messages.reassign_contact(tenant_id, source.id, survivor.id)
                await uow.contacts.delete(tenant_id, source.id, expected_version=source.version)
            await uow.events.record(ContactsMerged(saved, tuple(s.name for s in sources)))
            for conversation in outcome.absorbed:
                await uow.events.record(ConversationDeleted(conversation))
            for conversation in outcome.changed.values():
                await uow.events.record(ConversationUpdated(conversation))
            await uow.commit()
        return saved
