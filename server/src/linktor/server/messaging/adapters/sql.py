"""SQL implementation of the message repository."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.messaging.adapters.sql_statuses import bulk_statement, known_provider_ids, waves
from linktor.server.messaging.adapters.tables import delivery_attempts, messages
from linktor.server.messaging.app.ports import DeliveryResult, StatusReport
from linktor.server.messaging.domain.errors import DeliveryError
from linktor.server.messaging.domain.message import Attempt, Message, Sender
from linktor.server.messaging.domain.status import (
    PENDING,
    Direction,
    MessageStatus,
    SenderType,
    statuses_before,
)
from linktor.server.shared.ids import new_id
from linktor.v1 import content_pb2

_PENDING = [s.value for s in PENDING]
# "An earlier message of the same conversation is still pending", for claims. Built once:
# an alias copies every column of the table, which cost more than the claim's own query
# when it was built per call (see bench/pipeline/README.md).
_EARLIER = messages.alias("earlier")
_BLOCKED = exists().where(
    _EARLIER.c.conversation_id == messages.c.conversation_id,
    _EARLIER.c.seq < messages.c.seq,
    _EARLIER.c.direction == Direction.OUTBOUND.value,
    _EARLIER.c.status.in_(_PENDING),
)


def _content(raw: bytes | None) -> content_pb2.MessageContent | None:
    return None if raw is None else content_pb2.MessageContent.FromString(raw)


def message_from_row(row: Any) -> Message:
    return Message(
        id=row.id,
        tenant_id=row.tenant_id,
        conversation_id=row.conversation_id,
        channel_id=row.channel_id,
        contact_id=row.contact_id,
        seq=row.seq,
        direction=Direction(row.direction),
        sender=Sender(SenderType(row.sender_type), row.sender_name, row.sender_display_name),
        content=content_pb2.MessageContent.FromString(row.content),
        status=MessageStatus(row.status),
        create_time=row.create_time,
        update_time=row.update_time,
        address=row.address,
        body_text=row.body_text,
        delivered_content=_content(row.delivered_content),
        reply_to_id=row.reply_to_id,
        error=DeliveryError.from_json(row.error),
        provider_message_id=row.provider_message_id,
        request_id=row.request_id,
        metadata=dict(row.metadata or {}),
        attempt_count=row.attempt_count,
        next_attempt_time=row.next_attempt_time,
        send_time=row.send_time,
        deliver_time=row.deliver_time,
        read_time=row.read_time,
        fail_time=row.fail_time,
        provider_time=row.provider_time,
    )


def _row_of(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "tenant_id": m.tenant_id,
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "channel_id": m.channel_id,
        "contact_id": m.contact_id,
        "address": m.address,
        "direction": m.direction.value,
        "sender_type": m.sender.type.value,
        "sender_name": m.sender.name,
        "sender_display_name": m.sender.display_name,
        "content": m.content.SerializeToString(),
        "delivered_content": m.delivered_content.SerializeToString()
        if m.delivered_content is not None
        else None,
        "body_text": m.body_text,
        "reply_to_id": m.reply_to_id,
        "status": m.status.value,
        "error": m.error.to_json() if m.error else None,
        "provider_message_id": m.provider_message_id,
        "request_id": m.request_id,
        "metadata": m.metadata,
        "attempt_count": m.attempt_count,
        "next_attempt_time": m.next_attempt_time,
        "create_time": m.create_time,
        "update_time": m.update_time,
        "send_time": m.send_time,
        "deliver_time": m.deliver_time,
        "read_time": m.read_time,
        "fail_time": m.fail_time,
        "provider_time": m.provider_time,
    }


def _attempt_from_row(row: Any) -> Attempt:
    return Attempt(
        message_id=row.message_id,
        number=row.number,
        start_time=row.start_time,
        duration_ms=row.duration_ms,
        outcome=row.outcome,
        error=DeliveryError.from_json(row.error),
        retry_after_ms=row.retry_after_ms,
        next_attempt_time=row.next_attempt_time,
    )


class SqlMessageRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, message: Message) -> None:
        await self._conn.execute(insert(messages).values(**_row_of(message)))

    async def add_many(self, batch: Sequence[Message]) -> None:
        if batch:
            await self._conn.execute(insert(messages), [_row_of(m) for m in batch])

    async def get(self, tenant_id: str, message_id: str) -> Message | None:
        row = (
            await self._conn.execute(
                select(messages).where(
                    messages.c.tenant_id == tenant_id, messages.c.id == message_id
                )
            )
        ).one_or_none()
        return None if row is None else message_from_row(row)

    async def get_many(self, tenant_id: str, message_ids: Sequence[str]) -> dict[str, Message]:
        """:meth:`get` for many ids in one query; missing ids are absent."""
        if not message_ids:
            return {}
        rows = await self._conn.execute(
            select(messages).where(
                messages.c.tenant_id == tenant_id, messages.c.id.in_(list(message_ids))
            )
        )
        return {row.id: message_from_row(row) for row in rows}

    async def by_provider_id(self, channel_id: str, provider_message_id: str) -> Message | None:
        row = (
            await self._conn.execute(
                select(messages).where(
                    messages.c.channel_id == channel_id,
                    messages.c.provider_message_id == provider_message_id,
                )
            )
        ).one_or_none()
        return None if row is None else message_from_row(row)

    async def in_conversation(
        self, tenant_id: str, conversation_id: str, *, limit: int, before_seq: int | None
    ) -> list[Message]:
        query = (
            select(messages)
            .where(messages.c.tenant_id == tenant_id, messages.c.conversation_id == conversation_id)
            .order_by(messages.c.seq.desc())
            .limit(limit)
        )
        if before_seq is not None:
            query = query.where(messages.c.seq < before_seq)
        return [message_from_row(row) for row in await self._conn.execute(query)]

    async def attempts(self, message_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        found: dict[str, list[Attempt]] = defaultdict(list)
        if not message_ids:
            return found
        query = (
            select(delivery_attempts)
            .where(delivery_attempts.c.message_id.in_(list(message_ids)))
            .order_by(delivery_attempts.c.message_id, delivery_attempts.c.number)
        )
        for row in await self._conn.execute(query):
            found[row.message_id].append(_attempt_from_row(row))
        return found

    async def claim(
        self, message_ids: Sequence[str], now: datetime, lease_until: datetime
    ) -> list[Message]:
        if not message_ids:
            return []
        statement = (
            update(messages)
            .where(
                messages.c.id.in_(list(message_ids)),
                messages.c.direction == Direction.OUTBOUND.value,
                messages.c.status.in_(_PENDING),
                or_(messages.c.lease_until.is_(None), messages.c.lease_until < now),
                # Never early, not even by a little: a retry is scheduled no sooner than the
                # provider's retry_after, and an older work item of the message (e.g. one
                # that found it busy) may come back before that time. A replica whose clock
                # lags only waits a bit longer (the unclaimed path reschedules it).
                or_(
                    messages.c.next_attempt_time.is_(None),
                    messages.c.next_attempt_time <= now,
                ),
                ~_BLOCKED,
            )
            .values(status=MessageStatus.QUEUED.value, lease_until=lease_until)
            .returning(*messages.c)
        )
        rows = (await self._conn.execute(statement)).all()
        return [message_from_row(row) for row in rows]

    async def pending_states(
        self, message_ids: Sequence[str]
    ) -> dict[str, tuple[bool, datetime | None]]:
        """Whether each message is still pending, and when its next attempt is due; a
        message that does not exist is missing from the answer."""
        if not message_ids:
            return {}
        rows = await self._conn.execute(
            select(messages.c.id, messages.c.status, messages.c.next_attempt_time).where(
                messages.c.id.in_(list(message_ids))
            )
        )
        return {row.id: (row.status in _PENDING, row.next_attempt_time) for row in rows}

    async def claim_next_many(
        self, conversation_ids: Sequence[str], now: datetime, lease_until: datetime
    ) -> dict[str, Message]:
        """For each conversation, its first pending outbound message, claimed when it may
        go now (same rules as :meth:`claim`): what a conversation's chain sends next. Two
        statements whatever the number of conversations."""
        if not conversation_ids:
            return {}
        first = (
            select(messages.c.conversation_id, func.min(messages.c.seq).label("seq"))
            .where(
                messages.c.conversation_id.in_(list(conversation_ids)),
                messages.c.direction == Direction.OUTBOUND.value,
                messages.c.status.in_(_PENDING),
            )
            .group_by(messages.c.conversation_id)
            .subquery()
        )
        following = (
            await self._conn.execute(
                select(messages.c.id).join(
                    first,
                    and_(
                        messages.c.conversation_id == first.c.conversation_id,
                        messages.c.seq == first.c.seq,
                    ),
                )
            )
        ).scalars()
        claimed = await self.claim(list(following), now, lease_until)
        return {message.conversation_id: message for message in claimed}

    async def record(self, results: Sequence[DeliveryResult], now: datetime) -> list[Message]:
        if not results:
            return []
        await self._conn.execute(
            insert(delivery_attempts),
            [
                {
                    "id": new_id(),
                    "tenant_id": r.message.tenant_id,
                    "message_id": r.attempt.message_id,
                    "number": r.attempt.number,
                    "start_time": r.attempt.start_time,
                    "duration_ms": r.attempt.duration_ms,
                    "outcome": r.attempt.outcome,
                    "error": r.attempt.error.to_json() if r.attempt.error else None,
                    "retry_after_ms": r.attempt.retry_after_ms,
                    "next_attempt_time": r.attempt.next_attempt_time,
                }
                for r in results
            ],
        )
        # One executemany per target status: the WHERE clause keeps statuses moving forward.
        by_status: dict[MessageStatus | None, list[DeliveryResult]] = defaultdict(list)
        for r in results:
            by_status[r.status].append(r)
        for status, group in by_status.items():
            await self._record_group(status, group, now)
        changed = (
            await self._conn.execute(
                select(messages).where(messages.c.id.in_([r.message.id for r in results]))
            )
        ).all()
        intended = {r.message.id: r for r in results}
        return [
            message_from_row(row)
            for row in changed
            if row.update_time == now and intended[row.id].status is not None
        ]

    async def _record_group(
        self, status: MessageStatus | None, group: Sequence[DeliveryResult], now: datetime
    ) -> None:
        values: dict[str, Any] = {
            "attempt_count": bindparam("v_attempts"),
            "next_attempt_time": bindparam("v_next"),
            "error": bindparam("v_error"),
            "lease_until": None,
            "update_time": now,
        }
        allowed = _PENDING
        if status is not None:
            allowed = [s.value for s in statuses_before(status)]
            values["status"] = status.value
            if status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ):
                values["provider_message_id"] = bindparam("v_provider_id")
                values["send_time"] = now
            if status in (MessageStatus.DELIVERED, MessageStatus.READ):
                values["deliver_time"] = now
            if status is MessageStatus.FAILED:
                values["fail_time"] = now
        statement = (
            update(messages)
            # OR of equalities, not IN: an IN list is an "expanding" parameter, which
            # executemany (several results of one status in a batch) refuses.
            .where(
                and_(
                    messages.c.id == bindparam("v_id"),
                    or_(*(messages.c.status == value for value in allowed)),
                )
            )
            .values(**values)
        )
        await self._conn.execute(
            statement,
            [
                {
                    "v_id": r.message.id,
                    "v_attempts": r.attempt.number,
                    "v_next": r.next_attempt_time,
                    "v_error": r.error.to_json() if r.error else None,
                    "v_provider_id": r.provider_message_id,
                }
                for r in group
            ],
        )

    async def release(self, message_id: str, next_attempt_time: datetime) -> None:
        await self._conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(lease_until=None, next_attempt_time=next_attempt_time)
        )

    async def apply_status(
        self,
        channel_id: str,
        provider_message_id: str,
        status: MessageStatus,
        at: datetime,
        error: DeliveryError | None,
    ) -> Message | None:
        values: dict[str, Any] = {"status": status.value, "update_time": at}
        stamp = {
            MessageStatus.SENT: "send_time",
            MessageStatus.DELIVERED: "deliver_time",
            MessageStatus.READ: "read_time",
            MessageStatus.FAILED: "fail_time",
        }.get(status)
        if stamp:
            values[stamp] = at
        # A later status implies the earlier ones happened: fill their times when a report
        # was skipped or arrived out of order (READ before DELIVERED).
        if status in (MessageStatus.DELIVERED, MessageStatus.READ):
            values["send_time"] = func.coalesce(messages.c.send_time, at)
        if status is MessageStatus.READ:
            values["deliver_time"] = func.coalesce(messages.c.deliver_time, at)
        if status is MessageStatus.FAILED:
            values["error"] = error.to_json() if error else None
            values["lease_until"] = None
        statement = (
            update(messages)
            .where(
                messages.c.channel_id == channel_id,
                messages.c.provider_message_id == provider_message_id,
                messages.c.status.in_([s.value for s in statuses_before(status)]),
            )
            .values(**values)
            .returning(*messages.c)
        )
        row = (await self._conn.execute(statement)).one_or_none()
        return None if row is None else message_from_row(row)

    async def apply_statuses(self, reports: Sequence[StatusReport]) -> list[Message | None]:
        changed: list[Message | None] = [None] * len(reports)
        for wave in waves(reports):
            if self._conn.dialect.name != "postgresql":
                for i in wave:
                    r = reports[i]
                    changed[i] = await self.apply_status(
                        r.channel_id, r.provider_message_id, r.status, r.at, r.error
                    )
                continue
            rows = await self._conn.execute(bulk_statement([reports[i] for i in wave]))
            by_key = {(row.channel_id, row.provider_message_id): row for row in rows}
            for i in wave:
                row = by_key.get((reports[i].channel_id, reports[i].provider_message_id))
                changed[i] = None if row is None else message_from_row(row)
        return changed

    async def known_provider_ids(self, channel_id: str, provider_ids: Sequence[str]) -> set[str]:
        return await known_provider_ids(self._conn, channel_id, provider_ids)

    async def stale(self, older_than: datetime, limit: int) -> list[Message]:
        query = (
            select(messages)
            .where(
                messages.c.direction == Direction.OUTBOUND.value,
                messages.c.status.in_(_PENDING),
                or_(messages.c.lease_until.is_(None), messages.c.lease_until < older_than),
                or_(
                    messages.c.next_attempt_time.is_(None),
                    messages.c.next_attempt_time < older_than,
                ),
                messages.c.update_time < older_than,
            )
            .order_by(messages.c.update_time)
            .limit(limit)
        )
        return [message_from_row(row) for row in await self._conn.execute(query)]
