"""ListConversations in SQL: filters, and keyset pages over a snapshot of the activity order.

A list is read as of its snapshot time T (the first page's time, carried in the page token):
it holds the conversations created at or before T, ordered by their last activity AS OF T,
then id, descending. A conversation's activity only moves forward, so one that did not
move since T sorts by its stored ``last_activity_time``; one that moved (activity after T)
sorts by the newest of its messages stored at or before T (its creation time if none), which
is where it stood at T. Each page is one statement of two index-friendly halves: the
unmoved ones below the cursor, and the few moved ones whose snapshot position is below it.
Paging therefore never repeats a conversation nor skips one that existed at T, however much
activity arrives meanwhile; moved and new ones are for the client's event stream or next
refresh. Filters (status, assignee, unread...) are evaluated on the current state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.contacts.adapters.tables import contacts
from linktor.server.conversations.adapters.sql_rows import (
    conversation_from_row,
    select_conversations,
)
from linktor.server.conversations.adapters.tables import conversations
from linktor.server.conversations.app.ports import ConversationFilter, ListedConversation
from linktor.server.infra.db.search import icontains
from linktor.server.infra.db.types import UTCDateTime
from linktor.server.messaging.adapters.tables import messages


def filter_conditions(where: ConversationFilter) -> list[ColumnElement[bool]]:
    c = conversations.c
    conditions: list[ColumnElement[bool]] = []
    if where.statuses:
        conditions.append(c.status.in_(sorted(s.value for s in where.statuses)))
    if where.channel_id is not None:
        conditions.append(c.channel_id == where.channel_id)
    if where.assignee_user_id is not None:
        conditions.append(c.assignee_user_id == where.assignee_user_id)
    if where.unassigned:
        conditions.append(c.assignee_user_id.is_(None))
    if where.unread:
        conditions.append(c.unread_count > 0)
    if where.contact_id is not None:
        conditions.append(c.contact_id == where.contact_id)
    text = where.query.strip()
    if text:
        in_messages = exists(
            select(literal_column("1")).where(
                messages.c.conversation_id == c.id, icontains(messages.c.body_text, text)
            )
        )
        conditions.append(or_(icontains(contacts.c.display_name, text), in_messages))
    return conditions


def _activity_at(snapshot: datetime) -> ColumnElement[datetime]:
    """A conversation's last activity as of ``snapshot``: its newest message stored by then,
    but never before its creation (activity starts there; the first message's store time
    may precede the conversation row's by a hair)."""
    newest = (
        select(func.max(messages.c.create_time))
        .where(messages.c.conversation_id == conversations.c.id, messages.c.create_time <= snapshot)
        .scalar_subquery()
    )
    created = conversations.c.create_time
    return type_coerce(case((newest > created, newest), else_=created), UTCDateTime)


async def list_page(
    conn: AsyncConnection,
    tenant_id: str,
    where: ConversationFilter,
    *,
    snapshot: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ListedConversation]:
    base: Select[Any] = select_conversations().where(
        conversations.c.tenant_id == tenant_id,
        conversations.c.create_time <= snapshot,
        *filter_conditions(where),
    )
    lat, cid = conversations.c.last_activity_time, conversations.c.id
    cursor = tuple_(literal(after[0], UTCDateTime), literal(after[1])) if after else None

    unmoved = (
        base.where(lat <= snapshot)
        .add_columns(lat.label("sort_time"))
        .order_by(lat.desc(), cid.desc())
        .limit(limit)
    )
    if cursor is not None:
        unmoved = unmoved.where(tuple_(lat, cid) < cursor)

    moved = base.where(lat > snapshot).add_columns(_activity_at(snapshot).label("sort_time"))
    moved_rows = moved.subquery()
    moved_page = (
        select(moved_rows)
        .order_by(moved_rows.c.sort_time.desc(), moved_rows.c.id.desc())
        .limit(limit)
    )
    if cursor is not None:
        moved_page = moved_page.where(tuple_(moved_rows.c.sort_time, moved_rows.c.id) < cursor)

    # One statement, so both halves read the same committed state (PostgreSQL's READ
    # COMMITTED takes a snapshot per statement): a conversation moving in between could
    # otherwise be read by both.
    both = union_all(select(unmoved.subquery()), select(moved_page.subquery())).subquery()
    page = select(both).order_by(both.c.sort_time.desc(), both.c.id.desc()).limit(limit)
    return [
        ListedConversation(conversation_from_row(row), row.sort_time)
        for row in await conn.execute(page)
    ]
