"""ListConversations: page tokens over a snapshot of the activity order.

The first page fixes the snapshot time; every later page of that listing reads the order as
of that time (see conversations.adapters.sql_listing for how), so pages neither repeat nor
skip conversations while new messages arrive. The token carries the snapshot and the last
(sort time, id) returned, plus a fingerprint of the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linktor.server.conversations.app.ports import ConversationFilter, ConversationStore
from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.pagination import PageToken, fingerprint, page_size


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[Conversation]
    next_page_token: str


def _filters(tenant_id: str, where: ConversationFilter) -> dict[str, Any]:
    return {
        "tenant": tenant_id,
        "statuses": sorted(s.value for s in where.statuses),
        "channel": where.channel_id,
        "assignee": where.assignee_user_id,
        "unassigned": where.unassigned,
        "unread": where.unread,
        "contact": where.contact_id,
        "query": where.query.strip(),
    }


def _position(token: PageToken) -> tuple[datetime, tuple[datetime, str]]:
    try:
        snapshot, sort_time, last_id = token.last
        return datetime.fromisoformat(snapshot), (datetime.fromisoformat(sort_time), str(last_id))
    except (ValueError, TypeError) as exc:
        raise InvalidArgument.for_field("page_token", "is not a valid page token") from exc


async def list_conversations(
    repo: ConversationStore,
    tenant_id: str,
    where: ConversationFilter,
    *,
    size: int,
    token: str,
    now: datetime,
) -> ConversationPage:
    if where.unassigned and where.assignee_user_id is not None:
        raise InvalidArgument.for_field("unassigned", "cannot be combined with assignee")
    limit = page_size(size)
    filters = _filters(tenant_id, where)
    decoded = PageToken.decode(token, filters)
    snapshot, after = (now, None) if decoded is None else _position(decoded)
    listed = await repo.list_page(tenant_id, where, snapshot=snapshot, after=after, limit=limit + 1)
    next_token = ""
    if len(listed) > limit:
        listed = listed[:limit]
        last = listed[-1]
        position = [snapshot.isoformat(), last.sort_time.isoformat(), last.conversation.id]
        next_token = PageToken(position, fingerprint(filters)).encode()
    return ConversationPage([item.conversation for item in listed], next_token)
