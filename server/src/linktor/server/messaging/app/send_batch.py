"""Group commit for SendMessage: the sends of a tenant that arrive together are written in
ONE transaction with a few set-based statements, instead of ~17 statements and a
transaction each (the benchmark's profile: most of SendMessage's time went to per-statement
overhead and round trips, see bench/pipeline/README.md).

The transaction keeps every rule of the one-send path (send.py): conversations are locked
(all of them in one statement, in id order, so concurrent batches cannot deadlock on them),
sequences follow acceptance order, a request_id returns its first message, the same
request_id with another body is refused, and message, outbox row, events and idempotency
key commit together. Idempotency keys are claimed before anything is written, so a key held
by a concurrent call drops only its own send, which then starts over alone and finds the
winner's message.

A send that fails a check (reply window, unknown conversation, no address) fails alone. Any
other error rolls the whole batch back and each send is then written on its own, by the
one-send path, which gives each its precise outcome; a batch is an optimization, never a
different behaviour.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from linktor.server.contacts.domain.contact import normalize_address
from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.infra.batching import Batcher
from linktor.server.logs import get_logger
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.messaging.app.channels import ChannelInfo
from linktor.server.messaging.app.delivery_queue import delivery_row
from linktor.server.messaging.app.quota import MessageQuota
from linktor.server.messaging.domain.content_kind import plain_text
from linktor.server.messaging.domain.events import MessageCreated
from linktor.server.messaging.domain.message import Message, Sender
from linktor.server.messaging.domain.status import Direction, MessageStatus
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import DomainError, FailedPrecondition, NotFound
from linktor.server.shared.idempotency import ConcurrentRequest, IdempotencyRecord, reused
from linktor.server.shared.ids import new_id
from linktor.v1 import content_pb2

if TYPE_CHECKING:
    from linktor.server.messaging.app.send import SendCommand

log = get_logger(__name__)

IDEMPOTENCY_SCOPE = "SendMessage"
Outcome = Message | Exception


@dataclass(frozen=True)
class PreparedSend:
    """A send checked outside any transaction, ready to be written."""

    command: SendCommand
    channel: ChannelInfo
    sender: Sender
    delivered_content: content_pb2.MessageContent | None
    allowance: object | None


class _CreatedThenFailed(Exception):
    """A send that created its contact or conversation failed a check: the one-send path
    rolls such a send back whole, so the batch does too."""


# The one-send path's pieces a batch falls back on.
WriteOne = Callable[[PreparedSend], Awaitable[Message]]
TargetOne = Callable[[SqlMessagingUnitOfWork, PreparedSend, datetime], Awaitable[Conversation]]
ReplyWindowCheck = Callable[[Conversation, ChannelInfo, content_pb2.MessageContent, datetime], None]


class SendBatches:
    def __init__(
        self,
        uow: Callable[[str], SqlMessagingUnitOfWork],
        clock: Clock,
        quota: MessageQuota,
        *,
        write_one: WriteOne,
        target_one: TargetOne,
        check_reply_window: ReplyWindowCheck,
        on_commit: Callable[[], None],
        max_size: int = 200,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._quota = quota
        self._write_one = write_one
        self._target_one = target_one
        self._check_reply_window = check_reply_window
        self._on_commit = on_commit
        self._batcher: Batcher[PreparedSend, Outcome] = Batcher(self._handle, max_size=max_size)

    async def send(self, prepared: PreparedSend) -> Message:
        outcome = await self._batcher.submit(prepared)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _handle(self, items: Sequence[PreparedSend]) -> list[Outcome]:
        by_tenant: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            by_tenant[item.command.tenant_id].append(index)
        outcomes: list[Outcome | None] = [None] * len(items)

        async def tenant_batch(indexes: list[int]) -> None:
            for index, outcome in zip(
                indexes, await self._tenant_batch([items[i] for i in indexes]), strict=True
            ):
                outcomes[index] = outcome

        await asyncio.gather(*(tenant_batch(indexes) for indexes in by_tenant.values()))
        return [o if o is not None else RuntimeError("no outcome") for o in outcomes]

    async def _tenant_batch(self, items: list[PreparedSend]) -> list[Outcome]:
        if len(items) > 1:
            try:
                return await self._write(items)
            except Exception as exc:
                log.info(
                    "send batch rolled back; writing its sends one by one",
                    sends=len(items),
                    error=str(exc) or type(exc).__name__,
                )
        return list(await asyncio.gather(*(self._alone(item) for item in items)))

    async def _alone(self, item: PreparedSend) -> Outcome:
        try:
            return await self._write_one(item)
        except Exception as exc:
            return exc

    async def _write(self, items: list[PreparedSend]) -> list[Outcome]:
        tenant = items[0].command.tenant_id
        now = self._clock.now()
        out: list[Outcome | None] = [None] * len(items)
        async with self._uow(tenant) as uow:
            followers = await self._repeats(uow, items, now, out)
            created: set[int] = set()
            targets = await self._targets(uow, items, now, out, created)
            for i, conversation in targets.items():
                try:
                    self._check_reply_window(
                        conversation, items[i].channel, items[i].command.content, now
                    )
                except DomainError as exc:
                    out[i] = exc
            addresses = await self._addresses(uow, items, targets, out)
            if any(out[i] is not None for i in created):
                raise _CreatedThenFailed
            todo = await self._claim_keys(uow, items, targets, now, out)
            if todo:
                await self._write_messages(uow, items, todo, targets, addresses, now, out)
            await uow.commit()
        if todo:
            self._on_commit()
        for i, first in followers.items():
            # A repeat of a request_id earlier in this batch gets what the first got.
            outcome = out[first]
            key = items[i].command.request_id
            if not isinstance(outcome, Message):
                out[i] = ConcurrentRequest(key)  # starts over alone
            elif items[i].command.request_hash != items[first].command.request_hash:
                out[i] = reused(IDEMPOTENCY_SCOPE, key)
            else:
                out[i] = outcome
        return [o if o is not None else RuntimeError("no outcome") for o in out]

    async def _repeats(
        self,
        uow: SqlMessagingUnitOfWork,
        items: list[PreparedSend],
        now: datetime,
        out: list[Outcome | None],
    ) -> dict[int, int]:
        """Request ids seen before answer with their first message (or REQUEST_ID_REUSED).
        Returns the repeats of a request id within this batch (index -> index of its first
        occurrence): they are answered with the first one's outcome at the end."""
        tenant = items[0].command.tenant_id
        first_of: dict[str, int] = {}
        followers: dict[int, int] = {}
        for i, item in enumerate(items):
            key = item.command.request_id
            if not key:
                continue
            if key in first_of:
                followers[i] = first_of[key]
                out[i] = ConcurrentRequest(key)  # placeholder: not written by this batch
            else:
                first_of[key] = i
        if not first_of:
            return followers
        records = await uow.idempotency.get_many(tenant, IDEMPOTENCY_SCOPE, list(first_of), now)
        firsts = await uow.messages.get_many(
            tenant, [r.resource_name.rsplit("/", 1)[-1] for r in records.values()]
        )
        for key, record in records.items():
            i = first_of[key]
            if record.request_hash != items[i].command.request_hash:
                out[i] = reused(IDEMPOTENCY_SCOPE, key)
                continue
            first = firsts.get(record.resource_name.rsplit("/", 1)[-1])
            if first is not None:
                out[i] = first
        return followers

    async def _targets(
        self,
        uow: SqlMessagingUnitOfWork,
        items: list[PreparedSend],
        now: datetime,
        out: list[Outcome | None],
        created: set[int],
    ) -> dict[int, Conversation]:
        """The conversation of every send still to write, locked. Known recipients cost two
        statements for the whole batch; a new contact or conversation is created by the
        one-send path's code, in this transaction."""
        tenant = items[0].command.tenant_id
        todo = [i for i, o in enumerate(out) if o is None]
        addresses: dict[int, str] = {}
        wanted: dict[tuple[str, ChannelType], list[int]] = defaultdict(list)
        for i in todo:
            command = items[i].command
            if command.conversation_id is None:
                try:
                    addresses[i] = normalize_address(items[i].channel.type, command.address)
                except DomainError as exc:
                    out[i] = exc
                    continue
                wanted[(items[i].channel.id, items[i].channel.type)].append(i)
        contact_of: dict[int, str] = {}
        for (_, channel_type), indexes in wanted.items():
            found = await uow.contacts.contact_ids_by_address(
                tenant, channel_type, [addresses[i] for i in indexes]
            )
            contact_of.update({i: found[addresses[i]] for i in indexes if addresses[i] in found})
        ids = {
            c.conversation_id for i in todo if (c := items[i].command).conversation_id is not None
        }
        pairs = {(items[i].channel.id, contact) for i, contact in contact_of.items()}
        locked = await uow.conversations.lock_many(
            tenant, ids=sorted(str(i) for i in ids), pairs=sorted(pairs)
        )
        by_id = {c.id: c for c in locked}
        by_pair = {(c.channel_id, c.contact_id): c for c in locked}
        targets: dict[int, Conversation] = {}
        for i in todo:
            if out[i] is not None:
                continue
            command = items[i].command
            if command.conversation_id is not None:
                conversation = by_id.get(command.conversation_id)
                if conversation is None:
                    name = f"tenants/{tenant}/conversations/{command.conversation_id}"
                    out[i] = NotFound(f"{name} not found")
                else:
                    targets[i] = conversation
                continue
            known = by_pair.get((items[i].channel.id, contact_of.get(i, "")))
            if known is not None:
                targets[i] = known
                continue
            # First message to this recipient (or on this channel): in order, so a second
            # send to the same new recipient finds what the first created.
            new = await self._target_one(uow, items[i], now)
            by_pair[(new.channel_id, new.contact_id)] = new
            targets[i] = new
            created.add(i)
        return targets

    async def _addresses(
        self,
        uow: SqlMessagingUnitOfWork,
        items: list[PreparedSend],
        targets: dict[int, Conversation],
        out: list[Outcome | None],
    ) -> dict[int, str]:
        """Where each message goes: its contact's first address on the channel's type."""
        tenant = items[0].command.tenant_id
        by_type: dict[ChannelType, set[str]] = defaultdict(set)
        for i, conversation in targets.items():
            if out[i] is None:
                by_type[items[i].channel.type].add(conversation.contact_id)
        found: dict[tuple[ChannelType, str], str] = {}
        for channel_type, contacts in by_type.items():
            addresses = await uow.contacts.addresses_of(tenant, sorted(contacts), channel_type)
            found.update({(channel_type, c): a for c, a in addresses.items()})
        result: dict[int, str] = {}
        for i, conversation in targets.items():
            if out[i] is not None:
                continue
            channel_type = items[i].channel.type
            address = found.get((channel_type, conversation.contact_id))
            if address is None:
                out[i] = FailedPrecondition(
                    f"{conversation.name}: the contact has no {channel_type.value} address anymore"
                )
            else:
                result[i] = address
        return result

    async def _claim_keys(
        self,
        uow: SqlMessagingUnitOfWork,
        items: list[PreparedSend],
        targets: dict[int, Conversation],
        now: datetime,
        out: list[Outcome | None],
    ) -> dict[int, str]:
        """Message ids of the sends to write, their request ids claimed first: a key
        another call holds drops its send (it starts over alone)."""
        tenant = items[0].command.tenant_id
        todo = {i: new_id() for i in targets if out[i] is None}
        records = {
            items[i].command.request_id: IdempotencyRecord(
                items[i].command.request_hash,
                f"{targets[i].name}/messages/{message_id}",
            )
            for i, message_id in todo.items()
            if items[i].command.request_id
        }
        won = await uow.idempotency.claim_many(tenant, IDEMPOTENCY_SCOPE, records, now)
        for i in list(todo):
            key = items[i].command.request_id
            if key and key not in won:
                out[i] = ConcurrentRequest(key)
                del todo[i]
        return todo

    async def _write_messages(
        self,
        uow: SqlMessagingUnitOfWork,
        items: list[PreparedSend],
        todo: dict[int, str],
        targets: dict[int, Conversation],
        addresses: dict[int, str],
        now: datetime,
        out: list[Outcome | None],
    ) -> None:
        tenant = items[0].command.tenant_id
        allowance = items[next(iter(todo))].allowance
        if allowance is not None:
            # Over the allowance: the batch rolls back and each send learns alone.
            await self._quota.consume(uow, allowance, tenant, len(todo))
        read_at: dict[str, Conversation] = {}
        current: dict[str, Conversation] = {}
        written: list[Message] = []
        for i, message_id in todo.items():  # batch order is acceptance order
            item = items[i]
            conversation = current.get(targets[i].id, targets[i])
            read_at.setdefault(conversation.id, conversation)
            text = plain_text(item.command.content)
            conversation, seq = conversation.record_outbound(text, now)
            current[conversation.id] = conversation
            message = Message(
                id=message_id,
                tenant_id=tenant,
                conversation_id=conversation.id,
                channel_id=item.channel.id,
                contact_id=conversation.contact_id,
                seq=seq,
                direction=Direction.OUTBOUND,
                sender=item.sender,
                content=item.command.content,
                delivered_content=item.delivered_content,
                status=MessageStatus.ACCEPTED,
                create_time=now,
                update_time=now,
                address=addresses[i],
                body_text=text,
                request_id=item.command.request_id or None,
                metadata=dict(item.command.metadata),
            )
            written.append(message)
            out[i] = message
        await uow.conversations.record_outbound_many(
            [(c, read_at[c.id].version) for c in current.values()]
        )
        await uow.messages.add_many(written)
        for message in written:
            uow.outbox.add(delivery_row(message))
            await uow.events.record(MessageCreated(message))
