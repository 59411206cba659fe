"""Use cases of contacts: create (idempotent with a request id), get, list and search,
update, delete (with their conversations and messages), identities. Merging is in
:mod:`linktor.server.contacts.app.merge`."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from linktor.server.contacts.app.ports import ContactFilter, ContactsStore, ContactsUnitOfWork
from linktor.server.contacts.domain.contact import Contact, Identity, normalize_address
from linktor.server.contacts.domain.events import ContactCreated, ContactDeleted, ContactUpdated
from linktor.server.contacts.domain.fields import ContactFields, apply_fields, validate_fields
from linktor.server.conversations.domain.events import ConversationDeleted
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import (
    Aborted,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from linktor.server.shared.idempotency import (
    ConcurrentRequest,
    IdempotencyRecord,
    first_result,
)
from linktor.server.shared.ids import new_id
from linktor.server.shared.names import CONTACT
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal

CREATE_SCOPE = "CreateContact"


@dataclass(frozen=True)
class ContactPage:
    contacts: list[Contact]
    next_page_token: str


def contact_name(tenant_id: str, contact_id: str) -> str:
    return f"tenants/{tenant_id}/contacts/{contact_id}"


def check_etag(etag: str, contact: Contact) -> None:
    if etag and etag != contact.etag:
        raise Aborted(
            f"{contact.name} has changed since it was read (etag {etag} != {contact.etag})"
        )


def normalize_identities(identities: Sequence[Identity], field_path: str) -> tuple[Identity, ...]:
    """Identities with canonical addresses; InvalidArgument naming each bad or repeated one."""
    found: list[FieldViolation] = []
    kept: list[Identity] = []
    for index, identity in enumerate(identities):
        try:
            address = normalize_address(identity.channel_type, identity.address)
        except InvalidArgument as exc:
            found.append(FieldViolation(f"{field_path}[{index}].address", exc.message))
            continue
        if any(k.key == (identity.channel_type, address) for k in kept):
            found.append(FieldViolation(f"{field_path}[{index}]", "is listed twice"))
            continue
        kept.append(replace(identity, address=address))
    if found:
        raise InvalidArgument("; ".join(f"{v.field}: {v.description}" for v in found), found)
    return tuple(kept)


async def load_contact(uow: ContactsUnitOfWork, tenant_id: str, contact_id: str) -> Contact:
    found = await uow.contacts.get(tenant_id, contact_id)
    if found is None:
        raise NotFound(f"{contact_name(tenant_id, contact_id)} not found")
    return found


class ContactAdmin:
    def __init__(self, store: ContactsStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(
        self,
        principal: Principal,
        tenant_id: str,
        fields: ContactFields,
        identities: Sequence[Identity] = (),
        *,
        request_id: str = "",
        request_hash: str = "",
    ) -> Contact:
        """A new contact. A retry with the same ``request_id`` (and the same request, by
        ``request_hash``) returns the first result instead of creating another."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        values = validate_fields(fields)
        identities = normalize_identities(identities, "contact.identities")
        # Two attempts: the second one finds the result of a concurrent first call.
        for _ in range(2):
            now = self._clock.now()
            async with self._store.scoped(tenant_id) as uow:
                if request_id:
                    name = await first_result(
                        uow.idempotency, tenant_id, CREATE_SCOPE, request_id, request_hash, now
                    )
                    if name is not None:
                        return await load_contact(uow, tenant_id, CONTACT.parse(name)["contact"])
                stamped = tuple(replace(i, create_time=now) for i in identities)
                contact = apply_fields(
                    Contact(new_id(), tenant_id, "", now, now, identities=stamped), values, now
                )
                if not contact.display_name and stamped:
                    first_identity = stamped[0]
                    contact = replace(
                        contact, display_name=first_identity.display_name or first_identity.address
                    )
                if request_id:
                    # Claim the key before anything else can fail: a concurrent call with the
                    # same key waits here and then finds this call's result.
                    try:
                        await uow.idempotency.put(
                            tenant_id,
                            CREATE_SCOPE,
                            request_id,
                            IdempotencyRecord(request_hash, contact.name),
                            now,
                        )
                    except ConcurrentRequest:
                        continue
                await uow.contacts.add(contact)
                await uow.events.record(ContactCreated(contact))
                await uow.commit()
                return contact
        raise Aborted(f"request_id {request_id!r} is being used concurrently; retry")

    async def get(self, principal: Principal, tenant_id: str, contact_id: str) -> Contact:
        tenant_id = principal.own_tenant(tenant_id, contact_name(tenant_id, contact_id))
        async with self._store.scoped(tenant_id) as uow:
            return await load_contact(uow, tenant_id, contact_id)

    async def list(
        self, principal: Principal, tenant_id: str, where: ContactFilter, *, size: int, token: str
    ) -> ContactPage:
        """Contacts by display name, then id; the keyset position is the last (name, id)."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        limit = page_size(size)
        filters = {
            "tenant": tenant_id,
            "query": where.query.strip(),
            "tags": sorted(where.tags),
            "channel_type": where.channel_type.value if where.channel_type else None,
        }
        position = PageToken.decode(token, filters)
        after = None
        if position is not None:
            if len(position.last) != 2:
                raise InvalidArgument.for_field("page_token", "is not a valid page token")
            after = (str(position.last[0]), str(position.last[1]))
        async with self._store.scoped(tenant_id) as uow:
            found = await uow.contacts.search(tenant_id, where, after=after, limit=limit + 1)
        next_token = ""
        if len(found) > limit:
            found = found[:limit]
            next_token = PageToken(
                [found[-1].display_name, found[-1].id], fingerprint(filters)
            ).encode()
        return ContactPage(found, next_token)

    async def update(
        self,
        principal: Principal,
        tenant_id: str,
        contact_id: str,
        fields: ContactFields,
        etag: str = "",
    ) -> Contact:
        tenant_id = principal.own_tenant(tenant_id, contact_name(tenant_id, contact_id))
        values = validate_fields(fields)
        async with self._store.scoped(tenant_id) as uow:
            current = await load_contact(uow, tenant_id, contact_id)
            check_etag(etag, current)
            now = self._clock.now()
            changed = apply_fields(current, values, now)
            if changed == replace(current, update_time=now):
                return current
            saved = await uow.contacts.update(changed, expected_version=current.version)
            await uow.events.record(ContactUpdated(saved))
            await uow.commit()
        return saved

    async def delete(
        self, principal: Principal, tenant_id: str, contact_id: str, etag: str = ""
    ) -> None:
        """Delete the contact, its identities, its conversations and their messages (with
        their delivery attempts), in one transaction. To keep the history, merge instead."""
        tenant_id = principal.own_tenant(tenant_id, contact_name(tenant_id, contact_id))
        async with self._store.scoped(tenant_id) as uow:
            current = await load_contact(uow, tenant_id, contact_id)
            check_etag(etag, current)
            doomed = await uow.conversations.list_for_contact(
                tenant_id, contact_id, for_update=True
            )
            ids = [c.id for c in doomed]
            await uow.messages.delete_in(tenant_id, ids)
            await uow.conversations.delete(tenant_id, ids)
            await uow.contacts.delete(tenant_id, contact_id, expected_version=current.version)
            for conversation in doomed:
                await uow.events.record(ConversationDeleted(conversation))
            await uow.events.record(ContactDeleted(current))
            await uow.commit()

    async def add_identity(
        self, principal: Principal, tenant_id: str, contact_id: str, identity: Identity
    ) -> Contact:
        """ALREADY_EXISTS when another contact of the tenant (or this one) has it."""
        tenant_id = principal.own_tenant(tenant_id, contact_name(tenant_id, contact_id))
        (identity,) = normalize_identities([identity], "identity")
        async with self._store.scoped(tenant_id) as uow:
            current = await load_contact(uow, tenant_id, contact_id)
            now = self._clock.now()
            changed = current.add_identity(replace(identity, create_time=now), now)
            saved = await uow.contacts.update(changed, expected_version=current.version)
            await uow.events.record(ContactUpdated(saved))
            await uow.commit()
        return saved

    async def remove_identity(
        self,
        principal: Principal,
        tenant_id: str,
        contact_id: str,
        channel_type: ChannelType,
        address: str,
    ) -> Contact:
        """The contact's conversations on that channel type stay (with their history)."""
        tenant_id = principal.own_tenant(tenant_id, contact_name(tenant_id, contact_id))
        # An address that does not normalize cannot be stored either: NOT_FOUND below.
        with contextlib.suppress(InvalidArgument):
            address = normalize_address(channel_type, address)
        async with self._store.scoped(tenant_id) as uow:
            current = await load_contact(uow, tenant_id, contact_id)
            now = self._clock.now()
            changed = current.remove_identity(channel_type, address, now)
            saved = await uow.contacts.update(changed, expected_version=current.version)
            await uow.events.record(ContactUpdated(saved))
            await uow.commit()
        return saved
