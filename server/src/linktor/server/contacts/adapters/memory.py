"""In-memory contact repository: a fake of the port for unit tests (no transactions)."""

from __future__ import annotations

from dataclasses import replace

from linktor.server.contacts.domain.contact import Contact
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import Aborted, AlreadyExists


class InMemoryContactRepository:
    """Behaves like SqlContactRepository for one tenant-agnostic store: identities are unique
    per tenant, updates are version-checked, reads of another tenant's contact give None."""

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}

    def _owner(self, tenant_id: str, key: tuple[ChannelType, str]) -> str | None:
        for contact in self.contacts.values():
            if contact.tenant_id == tenant_id and any(i.key == key for i in contact.identities):
                return contact.id
        return None

    def _check_identities(self, contact: Contact) -> None:
        for identity in contact.identities:
            owner = self._owner(contact.tenant_id, identity.key)
            if owner is not None and owner != contact.id:
                raise AlreadyExists(
                    f"{identity.channel_type.value} {identity.address} already belongs to "
                    f"another contact",
                    reason="IDENTITY_TAKEN",
                )

    async def get(self, tenant_id: str, contact_id: str) -> Contact | None:
        contact = self.contacts.get(contact_id)
        return contact if contact is not None and contact.tenant_id == tenant_id else None

    async def find_by_identity(
        self, tenant_id: str, channel_type: ChannelType, address: str
    ) -> Contact | None:
        owner = self._owner(tenant_id, (channel_type, address))
        return None if owner is None else self.contacts[owner]

    async def add(self, contact: Contact) -> None:
        if contact.id in self.contacts:
            raise AlreadyExists(f"{contact.name} already exists")
        self._check_identities(contact)
        self.contacts[contact.id] = contact

    async def update(self, contact: Contact, *, expected_version: int) -> Contact:
        stored = await self.get(contact.tenant_id, contact.id)
        if stored is None or stored.version != expected_version:
            raise Aborted(f"{contact.name} was changed concurrently; read it again")
        self._check_identities(contact)
        saved = replace(contact, version=expected_version + 1)
        self.contacts[contact.id] = saved
        return saved

    async def delete(self, tenant_id: str, contact_id: str, *, expected_version: int) -> None:
        stored = await self.get(tenant_id, contact_id)
        if stored is None or stored.version != expected_version:
            raise Aborted(f"tenants/{tenant_id}/contacts/{contact_id} was changed concurrently")
        del self.contacts[contact_id]
