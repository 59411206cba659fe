"""The conversations context's bulk operations on the messages table (owned by messaging):
renumbering for conversation merges, contact moves, read marks, deletion with a contact."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.conversations.domain.merge import MessagePosition
from linktor.server.messaging.adapters.tables import delivery_attempts, messages

INBOUND = "INBOUND"
READ = "READ"


class SqlConversationMessages:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def positions(self, tenant_id: str, conversation_id: str) -> list[MessagePosition]:
        query = (
            select(messages.c.id, messages.c.seq, messages.c.create_time)
            .where(messages.c.tenant_id == tenant_id, messages.c.conversation_id == conversation_id)
            .order_by(messages.c.seq)
        )
        return [
            MessagePosition(r.id, r.seq, r.create_time) for r in await self._conn.execute(query)
        ]

    async def place(self, tenant_id: str, conversation_id: str, message_ids: Sequence[str]) -> None:
        """``message_ids`` must include every message already in ``conversation_id``."""
        if not message_ids:
            return
        # (conversation_id, seq) is unique and checked row by row: park every message on a
        # negative seq first (no positive seq is left in the conversation), then flip signs.
        await self._conn.execute(
            update(messages)
            .where(messages.c.tenant_id == tenant_id, messages.c.id == bindparam("b_id"))
            .values(conversation_id=conversation_id, seq=bindparam("b_seq")),
            [{"b_id": mid, "b_seq": -n} for n, mid in enumerate(message_ids, start=1)],
        )
        await self._conn.execute(
            update(messages)
            .where(
                messages.c.tenant_id == tenant_id,
                messages.c.conversation_id == conversation_id,
                messages.c.seq < 0,
            )
            .values(seq=-messages.c.seq)
        )

    async def reassign_contact(self, tenant_id: str, from_contact: str, to_contact: str) -> None:
        await self._conn.execute(
            update(messages)
            .where(messages.c.tenant_id == tenant_id, messages.c.contact_id == from_contact)
            .values(contact_id=to_contact)
        )

    async def seq_of(self, tenant_id: str, conversation_id: str, message_id: str) -> int | None:
        query = select(messages.c.seq).where(
            messages.c.tenant_id == tenant_id,
            messages.c.conversation_id == conversation_id,
            messages.c.id == message_id,
        )
        seq: int | None = (await self._conn.execute(query)).scalar_one_or_none()
        return seq

    async def mark_inbound_read(
        self, tenant_id: str, conversation_id: str, up_to_seq: int | None, now: datetime
    ) -> list[str]:
        unread = (
            select(messages.c.id)
            .where(
                messages.c.tenant_id == tenant_id,
                messages.c.conversation_id == conversation_id,
                messages.c.direction == INBOUND,
                messages.c.status != READ,
            )
            .order_by(messages.c.seq)
        )
        if up_to_seq is not None:
            unread = unread.where(messages.c.seq <= up_to_seq)
        ids = list((await self._conn.execute(unread)).scalars())
        if ids:
            await self._conn.execute(
                update(messages)
                .where(messages.c.tenant_id == tenant_id, messages.c.id.in_(ids))
                .values(status=READ, read_time=now, update_time=now)
            )
        return ids

    async def delete_in(self, tenant_id: str, conversation_ids: Sequence[str]) -> int:
        if not conversation_ids:
            return 0
        doomed = select(messages.c.id).where(
            messages.c.tenant_id == tenant_id, messages.c.conversation_id.in_(conversation_ids)
        )
        await self._conn.execute(
            delete(delivery_attempts).where(delivery_attempts.c.message_id.in_(doomed))
        )
        result = await self._conn.execute(
            delete(messages).where(
                messages.c.tenant_id == tenant_id,
                messages.c.conversation_id.in_(conversation_ids),
            )
        )
        return int(result.rowcount)
