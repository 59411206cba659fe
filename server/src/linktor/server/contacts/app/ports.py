"""Ports of the contacts context.

Other contexts (messaging, inbound) use :class:`ContactRepository` through their own unit of
work, bound to the same transaction, to find or create the contact behind an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from linktor.server.contacts.domain.contact import Contact
from linktor.server.conversations.app.ports import ConversationsUnitOfWork
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.idempotency import IdempotencyRecord


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


# --- What the contacts API needs beyond the repository above. ---


@dataclass(frozen=True)
class ContactFilter:
    """ListContacts filters; they combine with AND."""

    # Case-insensitive substring of the display name, email, phone number or an identity
    # address (phone-like queries also match on their digits).
    query: str = ""
    # Contacts carrying every one of these tags.
    tags: tuple[str, ...] = ()
    # Contacts with an identity on this channel type.
    channel_type: ChannelType | None = None


class ContactStore(ContactRepository, Protocol):
    async def delete(self, tenant_id: str, contact_id: str, *, expected_version: int) -> None:
        """Delete the contact and its identities (its conversations must be gone);
        Aborted on a version mismatch."""
        ...

    async def search(
        self,
        tenant_id: str,
        where: ContactFilter,
        *,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[Contact]:
        """Contacts by (display name, id) ascending, starting after ``after``."""
        ...


class IdempotencyKeys(Protocol):
    async def get(
        self, tenant_id: str, scope: str, key: str, now: datetime
    ) -> IdempotencyRecord | None: ...

    async def put(
        self, tenant_id: str, scope: str, key: str, record: IdempotencyRecord, now: datetime
    ) -> None:
        """Store a key; ConcurrentRequest when another call stored it first."""
        ...


class ContactsUnitOfWork(ConversationsUnitOfWork, Protocol):
    """A merge or a delete also moves or removes conversations and their messages."""

    @property
    def contacts(self) -> ContactStore: ...

    @property
    def idempotency(self) -> IdempotencyKeys: ...


class ContactsStore(Protocol):
    def scoped(self, tenant_id: str) -> ContactsUnitOfWork:
        """A unit of work seeing one tenant's rows."""
        ...
