"""SQL conditions of ListContacts filters.

Tags live in a JSON array column; "carries tag X" is ``@>`` on PostgreSQL (the column cast to
JSONB) and a ``json_each`` lookup on SQLite.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, cast, exists, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from linktor.server.contacts.adapters.tables import contact_identities, contacts
from linktor.server.contacts.app.ports import ContactFilter
from linktor.server.contacts.domain.fields import normalize_phone
from linktor.server.infra.db.search import icontains


def has_tag(tag: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return cast(contacts.c.tags, JSONB).contains([tag])
    each = func.json_each(contacts.c.tags).table_valued("value")
    return exists(select(literal_column("1")).select_from(each).where(each.c.value == tag))


def _matches_text(text: str) -> ColumnElement[bool]:
    identity_matches = [icontains(contact_identities.c.address, text)]
    own = [
        icontains(contacts.c.display_name, text),
        icontains(contacts.c.email, text),
        icontains(contacts.c.phone_number, text),
    ]
    phone = normalize_phone(text)
    if phone is not None:
        # "+55 (11) 99999-0001" finds +5511999990001: compare on the canonical spelling.
        own.append(icontains(contacts.c.phone_number, phone))
        identity_matches.append(icontains(contact_identities.c.address, phone))
    in_identities = exists(
        select(literal_column("1")).where(
            contact_identities.c.contact_id == contacts.c.id, or_(*identity_matches)
        )
    )
    return or_(*own, in_identities)


def contact_conditions(where: ContactFilter, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    text = where.query.strip()
    if text:
        conditions.append(_matches_text(text))
    conditions += [has_tag(tag, dialect) for tag in where.tags]
    if where.channel_type is not None:
        conditions.append(
            exists(
                select(literal_column("1")).where(
                    contact_identities.c.contact_id == contacts.c.id,
                    contact_identities.c.channel_type == where.channel_type.value,
                )
            )
        )
    return conditions
