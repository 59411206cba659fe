"""SQL implementation of the conversation repository (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.conversations.adapters.sql_listing import list_page
from linktor.server.conversations.adapters.sql_rows import (
    conversation_from_row,
    select_conversations,
)
from linktor.server.conversations.adapters.tables import conversations
from linktor.server.conversations.app.ports import ConversationFilter, ListedConversation
from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.shared.errors import Aborted, AlreadyExists


def _mutable_fields(conversation: Conversation) -> dict[str, Any]:
    return {
        "contact_id": conversation.contact_id,
        "status": conversation.status.value,
        "assignee_user_id": conversation.assignee_user_id,
        "snooze_time": conversation.snooze_time,
        "subject": conversation.subject,
        "tags": list(conversation.tags),
        "last_activity_time": conversation.last_activity_time,
        "last_message_preview": conversation.last_message_preview,
        "unread_count": conversation.unread_count,
        "last_inbound_time": conversation.last_inbound_time,
        "reply_window_expire_time": conversation.reply_window_expire_time,
        "update_time": conversation.update_time,
        "resolve_time": conversation.resolve_time,
        "message_seq": conversation.message_seq,
    }


class SqlConversationRepository:
    """Conversations on the caller's connection (its transaction)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _one(self, query: Select[Any], for_update: bool) -> Conversation | None:
        if for_update:
            # Locks the conversation row only (PostgreSQL); SQLite renders no FOR UPDATE and
            # is serialized by its BEGIN IMMEDIATE transactions instead.
            query = query.with_for_update(of=conversations)
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else conversation_from_row(row)

    async def get(
        self, tenant_id: str, conversation_id: str, *, for_update: bool = False
    ) -> Conversation | None:
        query = select_conversations().where(
            conversations.c.tenant_id == tenant_id, conversations.c.id == conversation_id
        )
        return await self._one(query, for_update)

    async def find(
        self, tenant_id: str, channel_id: str, contact_id: str, *, for_update: bool = False
    ) -> Conversation | None:
        query = select_conversations().where(
            conversations.c.tenant_id == tenant_id,
            conversations.c.channel_id == channel_id,
            conversations.c.contact_id == contact_id,
        )
        return await self._one(query, for_update)

    async def lock_many(
        self,
        tenant_id: str,
        *,
        ids: Sequence[str] = (),
        pairs: Sequence[tuple[str, str]] = (),
    ) -> list[Conversation]:
        """Conversations read FOR UPDATE in ONE statement, in id order: those with ``ids``
        and those of the (channel id, contact id) ``pairs``. One statement in one order
        means two transactions locking overlapping sets never wait on each other in a
        cycle."""
        if not ids and not pairs:
            return []
        wanted = []
        if ids:
            wanted.append(conversations.c.id.in_(list(ids)))
        if pairs:
            wanted.append(
                tuple_(conversations.c.channel_id, conversations.c.contact_id).in_(list(pairs))
            )
        query = (
            select_conversations()
            .where(conversations.c.tenant_id == tenant_id, or_(*wanted))
            .order_by(conversations.c.id)
            .with_for_update(of=conversations)
        )
        return [conversation_from_row(row) for row in await self._conn.execute(query)]

    async def record_outbound_many(
        self, changed: Sequence[tuple[Conversation, int]]
    ) -> list[Conversation]:
        """Store what :meth:`Conversation.record_outbound` changed (sequence, activity,
        preview) on conversations locked by :meth:`lock_many` in this transaction, each with
        the version it was read at, in one statement. Unlike :meth:`update` there is no
        savepoint and no version check: the row locks keep other writers out, and the
        contact (the one unique field) does not change."""
        if not changed:
            return []
        await self._conn.execute(
            update(conversations)
            .where(
                conversations.c.tenant_id == bindparam("b_tenant"),
                conversations.c.id == bindparam("b_id"),
            )
            .values(
                version=bindparam("b_version"),
                message_seq=bindparam("b_message_seq"),
                last_activity_time=bindparam("b_last_activity_time"),
                last_message_preview=bindparam("b_last_message_preview"),
                update_time=bindparam("b_update_time"),
            ),
            [
                {
                    "b_tenant": c.tenant_id,
                    "b_id": c.id,
                    "b_version": version + 1,
                    "b_message_seq": c.message_seq,
                    "b_last_activity_time": c.last_activity_time,
                    "b_last_message_preview": c.last_message_preview,
                    "b_update_time": c.update_time,
                }
                for c, version in changed
            ],
        )
        return [replace(c, version=version + 1) for c, version in changed]

    async def add(self, conversation: Conversation) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(conversations).values(
                        id=conversation.id,
                        tenant_id=conversation.tenant_id,
                        channel_id=conversation.channel_id,
                        create_time=conversation.create_time,
                        version=conversation.version,
                        **_mutable_fields(conversation),
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"tenants/{conversation.tenant_id}/contacts/{conversation.contact_id} already "
                f"has a conversation on channel {conversation.channel_id}",
                reason="CONVERSATION_EXISTS",
            ) from exc

    async def update(self, conversation: Conversation, *, expected_version: int) -> Conversation:
        new_version = expected_version + 1
        try:
            async with self._conn.begin_nested():
                result = await self._conn.execute(
                    update(conversations)
                    .where(
                        conversations.c.tenant_id == conversation.tenant_id,
                        conversations.c.id == conversation.id,
                        conversations.c.version == expected_version,
                    )
                    .values(version=new_version, **_mutable_fields(conversation))
                )
                if result.rowcount != 1:
                    raise Aborted(f"{conversation.name} was changed concurrently; read it again")
        except IntegrityError as exc:
            # Only a contact change (merge) can collide: (channel, contact) is unique.
            raise AlreadyExists(
                f"the contact of {conversation.name} already has a conversation on its channel",
                reason="CONVERSATION_EXISTS",
            ) from exc
        return replace(conversation, version=new_version)

    async def list_for_contact(
        self, tenant_id: str, contact_id: str, *, for_update: bool = False
    ) -> list[Conversation]:
        """Every conversation of a contact, oldest first."""
        query = (
            select_conversations()
            .where(conversations.c.tenant_id == tenant_id, conversations.c.contact_id == contact_id)
            .order_by(conversations.c.create_time, conversations.c.id)
        )
        if for_update:
            query = query.with_for_update(of=conversations)
        return [conversation_from_row(row) for row in await self._conn.execute(query)]

    async def delete(self, tenant_id: str, conversation_ids: Sequence[str]) -> None:
        """Delete conversation rows; their messages must be gone already (foreign keys)."""
        if conversation_ids:
            await self._conn.execute(
                delete(conversations).where(
                    conversations.c.tenant_id == tenant_id,
                    conversations.c.id.in_(conversation_ids),
                )
            )

    async def due_snoozes(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        """(tenant id, conversation id) of snoozed conversations due at ``now``, of every
        tenant the connection can see (a privileged unit of work sees all)."""
        query = (
            select(conversations.c.tenant_id, conversations.c.id)
            .where(
                conversations.c.status == ConversationStatus.SNOOZED.value,
                conversations.c.snooze_time <= now,
            )
            .order_by(conversations.c.snooze_time)
            .limit(limit)
        )
        return [(row.tenant_id, row.id) for row in await self._conn.execute(query)]

    async def list_page(
        self,
        tenant_id: str,
        where: ConversationFilter,
        *,
        snapshot: datetime,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[ListedConversation]:
        return await list_page(
            self._conn, tenant_id, where, snapshot=snapshot, after=after, limit=limit
        )
