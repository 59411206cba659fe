"""Merging contacts: what the surviving contact keeps of the merged ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from linktor.server.contacts.domain.contact import Contact
from linktor.server.contacts.domain.fields import MAX_ATTRIBUTES, MAX_TAGS
from linktor.server.shared.errors import InvalidArgument

MAX_MERGED = 10


def merged_contact(survivor: Contact, sources: Sequence[Contact], now: datetime) -> Contact:
    """The survivor after absorbing ``sources``: every identity; tags united (the survivor's
    first, up to the tag limit); attributes added where the survivor has none (up to the
    attribute limit); email, phone number, locale and avatar filled where the survivor has
    none, from the first source that has one. Its own values always win."""
    if not sources:
        raise InvalidArgument.for_field("source_contacts", "name at least one contact")
    if len(sources) > MAX_MERGED:
        raise InvalidArgument.for_field(
            "source_contacts", f"at most {MAX_MERGED} contacts per merge"
        )
    if any(source.id == survivor.id for source in sources):
        raise InvalidArgument.for_field("source_contacts", "must not contain the surviving contact")
    identities = list(survivor.identities)
    tags = list(survivor.tags)
    attributes = dict(survivor.attributes)
    email, phone, locale, avatar = (
        survivor.email,
        survivor.phone_number,
        survivor.locale,
        survivor.avatar_url,
    )
    for source in sources:
        identities += [i for i in source.identities if i.key not in {x.key for x in identities}]
        tags += [t for t in source.tags if t not in tags]
        for key, value in source.attributes.items():
            if key not in attributes and len(attributes) < MAX_ATTRIBUTES:
                attributes[key] = value
        email = email or source.email
        phone = phone or source.phone_number
        locale = locale or source.locale
        avatar = avatar or source.avatar_url
    return replace(
        survivor,
        display_name=survivor.display_name or next((s.display_name for s in sources), ""),
        identities=tuple(identities),
        tags=tuple(tags[:MAX_TAGS]),
        attributes=attributes,
        email=email,
        phone_number=phone,
        locale=locale,
        avatar_url=avatar,
        update_time=now,
    )
