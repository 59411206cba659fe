"""Ports of the contacts context.

Other contexts (messaging, inbound) use :class:`ContactRepository` through their own unit of
work, bound to the same transaction, to find or create the contact behind an address.
"""

from __future__ import annotations

from typing import Protocol

from linktor.server.contacts.domain.contact import Contact
from linktor.server.shared.channel_types import ChannelType


class ContactRepository(Protocol):
    async def get(self, tenant_id: str, contact_id: str) -> Contact | None:
        """The contact with its identities, or None (also for another tenant's contact)."""
        ...

    async def find_by_identity(
        self, tenant_id: str, channel_type: ChannelType, address: str
    ) -> Contact | None:
        """The contact owning an identity, or None."""
        ...

    async def add(self, contact: Contact) -> None:
        """Store a new contact and its identities. AlreadyExists when one of the identities
        belongs to another contact (the transaction stays usable)."""
        ...

    async def update(self, contact: Contact, *, expected_version: int) -> Contact:
        """Store the contact's fields and make its identities exactly ``contact.identities``.
        Aborted on a version mismatch; AlreadyExists when an added identity is taken."""
        ...
