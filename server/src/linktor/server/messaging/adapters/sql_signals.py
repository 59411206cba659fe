"""Message queries of read receipts, typing and inbound media (beside the repository so the
delivery path's module stays as it is)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.messaging.adapters.sql import message_from_row
from linktor.server.messaging.adapters.tables import messages
from linktor.server.messaging.domain.message import Message
from linktor.server.messaging.domain.status import Direction
from linktor.v1 import content_pb2

_m = messages.c


async def messages_by_ids(
    conn: AsyncConnection, tenant_id: str, message_ids: Sequence[str]
) -> list[Message]:
    """The tenant's messages among ``message_ids``, in seq order."""
    if not message_ids:
        return []
    query = (
        select(messages)
        .where(_m.tenant_id == tenant_id, _m.id.in_(list(message_ids)))
        .order_by(_m.seq)
    )
    return [message_from_row(row) for row in await conn.execute(query)]


async def newest_inbound(
    conn: AsyncConnection, tenant_id: str, conversation_id: str
) -> Message | None:
    """The conversation's newest inbound message that has a provider message id."""
    query = (
        select(messages)
        .where(
            _m.tenant_id == tenant_id,
            _m.conversation_id == conversation_id,
            _m.direction == Direction.INBOUND.value,
            _m.provider_message_id.is_not(None),
        )
        .order_by(_m.seq.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return None if row is None else message_from_row(row)


async def replace_content(
    conn: AsyncConnection,
    tenant_id: str,
    message_id: str,
    content: content_pb2.MessageContent,
    metadata: dict[str, str],
    now: datetime,
) -> Message | None:
    """Store new content and metadata of a message; the message as it is now."""
    await conn.execute(
        update(messages)
        .where(_m.tenant_id == tenant_id, _m.id == message_id)
        .values(content=content.SerializeToString(), metadata=metadata, update_time=now)
    )
    row = (
        await conn.execute(select(messages).where(_m.tenant_id == tenant_id, _m.id == message_id))
    ).first()
    return None if row is None else message_from_row(row)
