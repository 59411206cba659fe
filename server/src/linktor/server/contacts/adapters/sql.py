"""SQL implementation of the contact repository (SQLite and PostgreSQL).

Writes that can hit a unique key run inside a SAVEPOINT: a taken identity becomes
AlreadyExists and the caller's transaction stays usable (it may re-read and carry on, which
is how concurrent first messages from one address end up on one contact).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.contacts.adapters.sql_filters import contact_conditions
from linktor.server.contacts.adapters.tables import contact_identities, contacts
from linktor.server.contacts.app.ports import ContactFilter
from linktor.server.contacts.domain.contact import Contact, Identity
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import Aborted, AlreadyExists
from linktor.server.shared.ids import new_id


def _identity(row: Any) -> Identity:
    return Identity(
        channel_type=ChannelType(row.channel_type),
        address=row.address,
        channel_id=row.channel_id,
        display_name=row.display_name,
        create_time=row.create_time,
    )


def contact_from_row(row: Any, identities: Iterable[Identity]) -> Contact:
    return Contact(
        id=row.id,
        tenant_id=row.tenant_id,
        display_name=row.display_name,
        create_time=row.create_time,
        update_time=row.update_time,
        identities=tuple(identities),
        email=row.email,
        phone_number=row.phone_number,
        locale=row.locale,
        avatar_url=row.avatar_url,
        tags=tuple(row.tags),
        attributes=dict(row.attributes),
        version=row.version,
    )


def _identity_values(contact: Contact, identity: Identity) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": contact.tenant_id,
        "contact_id": contact.id,
        "channel_type": identity.channel_type.value,
        "address": identity.address,
        "channel_id": identity.channel_id,
        "display_name": identity.display_name,
        "create_time": identity.create_time or contact.update_time,
    }


def _fields(contact: Contact) -> dict[str, Any]:
    return {
        "display_name": contact.display_name,
        "email": contact.email,
        "phone_number": contact.phone_number,
        "locale": contact.locale,
        "avatar_url": contact.avatar_url,
        "tags": list(contact.tags),
        "attributes": dict(contact.attributes),
        "update_time": contact.update_time,
    }


def _taken(contact: Contact, identities: Sequence[Identity]) -> AlreadyExists:
    keys = ", ".join(f"{i.channel_type.value} {i.address}" for i in identities)
    return AlreadyExists(
        f"an identity of {contact.name} ({keys}) already belongs to another contact",
        reason="IDENTITY_TAKEN",
    )


class SqlContactRepository:
    """Contacts with their identities, on the caller's connection (its transaction)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _identities_of(self, contact_ids: Sequence[str]) -> dict[str, list[Identity]]:
        found: dict[str, list[Identity]] = {cid: [] for cid in contact_ids}
        if not contact_ids:
            return found
        query = (
            select(contact_identities)
            .where(contact_identities.c.contact_id.in_(contact_ids))
            .order_by(contact_identities.c.create_time, contact_identities.c.id)
        )
        for row in await self._conn.execute(query):
            found[row.contact_id].append(_identity(row))
        return found

    async def hydrate(self, rows: Sequence[Any]) -> list[Contact]:
        """Contacts from rows of the contacts table, with their identities (one query)."""
        identities = await self._identities_of([row.id for row in rows])
        return [contact_from_row(row, identities[row.id]) for row in rows]

    async def get(self, tenant_id: str, contact_id: str) -> Contact | None:
        query = select(contacts).where(
            contacts.c.tenant_id == tenant_id, contacts.c.id == contact_id
        )
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else (await self.hydrate([row]))[0]

    async def find_by_identity(
        self, tenant_id: str, channel_type: ChannelType, address: str
    ) -> Contact | None:
        query = select(contact_identities.c.contact_id).where(
            contact_identities.c.tenant_id == tenant_id,
            contact_identities.c.channel_type == channel_type.value,
            contact_identities.c.address == address,
        )
        contact_id = (await self._conn.execute(query)).scalar_one_or_none()
        return None if contact_id is None else await self.get(tenant_id, contact_id)

    async def contact_ids_by_address(
        self, tenant_id: str, channel_type: ChannelType, addresses: Sequence[str]
    ) -> dict[str, str]:
        """:meth:`find_by_identity` for many (normalized) addresses at once, ids only:
        address -> contact id, for the addresses that have a contact."""
        if not addresses:
            return {}
        rows = await self._conn.execute(
            select(contact_identities.c.address, contact_identities.c.contact_id).where(
                contact_identities.c.tenant_id == tenant_id,
                contact_identities.c.channel_type == channel_type.value,
                contact_identities.c.address.in_(list(addresses)),
            )
        )
        return {row.address: row.contact_id for row in rows}

    async def addresses_of(
        self, tenant_id: str, contact_ids: Sequence[str], channel_type: ChannelType
    ) -> dict[str, str]:
        """Each contact's first address on ``channel_type`` (as ``Contact.identity``), for
        the contacts that have one."""
        if not contact_ids:
            return {}
        rows = await self._conn.execute(
            select(contact_identities.c.contact_id, contact_identities.c.address)
            .where(
                contact_identities.c.tenant_id == tenant_id,
                contact_identities.c.channel_type == channel_type.value,
                contact_identities.c.contact_id.in_(list(contact_ids)),
            )
            .order_by(contact_identities.c.create_time.desc(), contact_identities.c.id.desc())
        )
        # Newest first, so the oldest (the first identity) is written last and wins.
        return {row.contact_id: row.address for row in rows}

    async def add(self, contact: Contact) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(contacts).values(
                        id=contact.id,
                        tenant_id=contact.tenant_id,
                        create_time=contact.create_time,
                        version=contact.version,
                        **_fields(contact),
                    )
                )
                if contact.identities:
                    await self._conn.execute(
                        insert(contact_identities),
                        [_identity_values(contact, i) for i in contact.identities],
                    )
        except IntegrityError as exc:
            raise _taken(contact, contact.identities) from exc

    async def update(self, contact: Contact, *, expected_version: int) -> Contact:
        new_version = expected_version + 1
        # One savepoint around the row and its identities: either all of it or none.
        try:
            async with self._conn.begin_nested():
                result = await self._conn.execute(
                    update(contacts)
                    .where(
                        contacts.c.tenant_id == contact.tenant_id,
                        contacts.c.id == contact.id,
                        contacts.c.version == expected_version,
                    )
                    .values(version=new_version, **_fields(contact))
                )
                if result.rowcount != 1:
                    raise Aborted(f"{contact.name} was changed concurrently; read it again")
                await self._sync_identities(contact)
        except IntegrityError as exc:
            raise _taken(contact, contact.identities) from exc
        return replace(contact, version=new_version)

    async def _sync_identities(self, contact: Contact) -> None:
        """Make the stored identities of ``contact`` exactly ``contact.identities``."""
        stored = {i.key: i for i in (await self._identities_of([contact.id]))[contact.id]}
        wanted = {i.key: i for i in contact.identities}
        for channel_type, address in stored.keys() - wanted.keys():
            await self._conn.execute(
                delete(contact_identities).where(
                    contact_identities.c.contact_id == contact.id,
                    contact_identities.c.channel_type == channel_type.value,
                    contact_identities.c.address == address,
                )
            )
        for key, identity in wanted.items():
            before = stored.get(key)
            if before is None:
                # The identity may move here from another contact (merge): it is released by
                # the caller first, so a conflict here is a real one.
                await self._conn.execute(
                    insert(contact_identities).values(**_identity_values(contact, identity))
                )
            elif (before.channel_id, before.display_name) != (
                identity.channel_id,
                identity.display_name,
            ):
                await self._conn.execute(
                    update(contact_identities)
                    .where(
                        contact_identities.c.contact_id == contact.id,
                        contact_identities.c.channel_type == key[0].value,
                        contact_identities.c.address == key[1],
                    )
                    .values(channel_id=identity.channel_id, display_name=identity.display_name)
                )

    async def delete(self, tenant_id: str, contact_id: str, *, expected_version: int) -> None:
        """Delete the contact row and its identities; Aborted on a version mismatch.
        The caller removes its conversations and messages first (foreign keys)."""
        async with self._conn.begin_nested():
            await self._conn.execute(
                delete(contact_identities).where(
                    contact_identities.c.tenant_id == tenant_id,
                    contact_identities.c.contact_id == contact_id,
                )
            )
            result = await self._conn.execute(
                delete(contacts).where(
                    contacts.c.tenant_id == tenant_id,
                    contacts.c.id == contact_id,
                    contacts.c.version == expected_version,
                )
            )
            if result.rowcount != 1:
                raise Aborted(f"tenants/{tenant_id}/contacts/{contact_id} was changed concurrently")

    async def search(
        self, tenant_id: str, where: ContactFilter, *, after: tuple[str, str] | None, limit: int
    ) -> list[Contact]:
        query = (
            select(contacts)
            .where(contacts.c.tenant_id == tenant_id, *contact_conditions(where, self._dialect))
            .order_by(contacts.c.display_name, contacts.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(contacts.c.display_name, contacts.c.id) > tuple_(*after))
        return await self.hydrate((await self._conn.execute(query)).all())

    @property
    def _dialect(self) -> str:
        return self._conn.dialect.name
