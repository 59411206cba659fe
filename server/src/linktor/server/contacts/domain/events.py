"""Events of the contacts context (types as in linktor.v1.Event.type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from linktor.server.contacts.domain.contact import Contact


@dataclass(frozen=True)
class ContactEvent:
    """A contact was created, updated or deleted; ``contact`` is its state afterwards
    (before, for a deletion)."""

    contact: Contact
    type: ClassVar[str] = ""

    @property
    def tenant_id(self) -> str:
        return self.contact.tenant_id

    @property
    def subject_name(self) -> str:
        return self.contact.name


@dataclass(frozen=True)
class ContactCreated(ContactEvent):
    type: ClassVar[str] = "contact.created"


@dataclass(frozen=True)
class ContactUpdated(ContactEvent):
    type: ClassVar[str] = "contact.updated"


@dataclass(frozen=True)
class ContactDeleted(ContactEvent):
    type: ClassVar[str] = "contact.deleted"


@dataclass(frozen=True)
class ContactsMerged(ContactEvent):
    """``merged_contacts`` (resource names) were merged into ``contact`` and deleted."""

    merged_contacts: tuple[str, ...] = ()
    type: ClassVar[str] = "contact.merged"
