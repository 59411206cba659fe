"""Finding the contact behind an address, creating it on first contact.

Used by messaging (inbound messages, sends to a bare address) inside its own transaction.
"""

from __future__ import annotations

from datetime import datetime

from linktor.server.contacts.app.ports import ContactRepository
from linktor.server.contacts.domain.contact import Contact, Identity, normalize_address
from linktor.server.contacts.domain.events import ContactCreated
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.domain_events import EventRecorder
from linktor.server.shared.errors import AlreadyExists
from linktor.server.shared.ids import new_id


async def resolve_contact(
    repo: ContactRepository,
    tenant_id: str,
    channel_type: ChannelType,
    address: str,
    display_name: str,
    channel_id: str | None,
    now: datetime,
    *,
    events: EventRecorder | None = None,
) -> Contact:
    """The contact owning (channel type, address), created when there is none.

    The address is normalized first (E.164 for phone channels). A new contact is named after
    ``display_name`` (the profile name the channel reported) or else the address, and
    ``contact.created`` is recorded on ``events``. Two first messages from one address racing
    each other end on one contact: the loser's insert fails on the unique identity inside a
    savepoint and it reads the winner's contact instead.
    """
    address = normalize_address(channel_type, address)
    found = await repo.find_by_identity(tenant_id, channel_type, address)
    if found is not None:
        return found
    display_name = display_name.strip()[:200]
    contact = Contact(
        id=new_id(),
        tenant_id=tenant_id,
        display_name=display_name or address,
        create_time=now,
        update_time=now,
        identities=(Identity(channel_type, address, channel_id, display_name, now),),
    )
    try:
        await repo.add(contact)
    except AlreadyExists:
        found = await repo.find_by_identity(tenant_id, channel_type, address)
        if found is None:  # taken and released again in between: let the caller retry
            raise
        return found
    if events is not None:
        await events.record(ContactCreated(contact))
    return contact
