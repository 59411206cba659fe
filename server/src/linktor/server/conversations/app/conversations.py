"""Use cases of the agent workflow on conversations: read, list, update, assign, resolve,
reopen, snooze, mark read. Every change is version-checked, optionally etag-conditioned,
and recorded as a domain event in its transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from linktor.server.conversations.app.listing import ConversationPage, list_conversations
from linktor.server.conversations.app.ports import (
    ConversationFilter,
    ConversationsStore,
    ConversationsUnitOfWork,
    NoTypingIndicators,
    ReadReceipts,
    TenantMembers,
    TypingIndicators,
)
from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.conversations.domain.events import (
    ConversationAssigned,
    ConversationEvent,
    ConversationResolved,
    ConversationUpdated,
)
from linktor.server.conversations.domain.fields import validate_subject, validate_tags
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import Aborted, InvalidArgument, NotFound
from linktor.server.shared.principal import Principal

# A change of a loaded conversation: the new state and the events to record, or None when
# nothing changes.
Change = Callable[[Conversation, datetime], Conversation | None]


@dataclass(frozen=True)
class ConversationChanges:
    """UpdateConversation: the fields named in the mask (None: not named)."""

    status: ConversationStatus | None = None
    snooze_time: datetime | None = None
    snooze_time_named: bool = False
    subject: str | None = None
    tags: tuple[str, ...] | None = None


def check_etag(etag: str, conversation: Conversation) -> None:
    if etag and etag != conversation.etag:
        raise Aborted(
            f"{conversation.name} has changed since it was read (etag {etag} != "
            f"{conversation.etag})"
        )


def events_for(before: Conversation, after: Conversation) -> list[ConversationEvent]:
    """conversation.updated for any change, plus .resolved / .assigned when those happened."""
    events: list[ConversationEvent] = [ConversationUpdated(after)]
    if after.status is ConversationStatus.RESOLVED and before.status is not after.status:
        events.append(ConversationResolved(after))
    if after.assignee_user_id != before.assignee_user_id:
        events.append(ConversationAssigned(after))
    return events


def _with_status(
    conversation: Conversation, changes: ConversationChanges, now: datetime
) -> Conversation:
    status = changes.status
    if status is ConversationStatus.SNOOZED or (status is None and changes.snooze_time_named):
        if status is None and conversation.status is not ConversationStatus.SNOOZED:
            raise InvalidArgument.for_field(
                "conversation.snooze_time", "set status SNOOZED too to snooze the conversation"
            )
        if changes.snooze_time is None:
            raise InvalidArgument.for_field(
                "conversation.snooze_time", "is required for a SNOOZED conversation"
            )
        return conversation.snooze(changes.snooze_time, now)
    if changes.snooze_time_named and changes.snooze_time is not None:
        raise InvalidArgument.for_field(
            "conversation.snooze_time", "can only be set on a SNOOZED conversation"
        )
    if status is None or status is conversation.status:
        return conversation
    if status is ConversationStatus.RESOLVED:
        return conversation.resolve(now)
    if status is ConversationStatus.OPEN:
        return conversation.reopen(now)
    return replace(conversation, status=status, snooze_time=None, update_time=now)


def apply_changes(
    conversation: Conversation, changes: ConversationChanges, now: datetime
) -> Conversation:
    updated = _with_status(conversation, changes, now)
    if changes.subject is not None:
        updated = replace(updated, subject=validate_subject(changes.subject))
    if changes.tags is not None:
        updated = replace(updated, tags=validate_tags(changes.tags))
    return replace(updated, update_time=now)


class ConversationAdmin:
    def __init__(
        self,
        store: ConversationsStore,
        members: TenantMembers,
        receipts: ReadReceipts,
        clock: Clock,
        typing: TypingIndicators | None = None,
    ) -> None:
        self._store = store
        self._members = members
        self._receipts = receipts
        self._clock = clock
        self._typing = typing or NoTypingIndicators()

    @staticmethod
    def _tenant(principal: Principal, tenant_id: str, conversation_id: str) -> str:
        name = f"tenants/{tenant_id}/conversations/{conversation_id}"
        return principal.own_tenant(tenant_id, name)

    @staticmethod
    async def _load(
        uow: ConversationsUnitOfWork, tenant_id: str, conversation_id: str
    ) -> Conversation:
        found = await uow.conversations.get(tenant_id, conversation_id, for_update=True)
        if found is None:
            raise NotFound(f"tenants/{tenant_id}/conversations/{conversation_id} not found")
        return found

    async def get(self, principal: Principal, tenant_id: str, conversation_id: str) -> Conversation:
        tenant_id = self._tenant(principal, tenant_id, conversation_id)
        async with self._store.scoped(tenant_id) as uow:
            found = await uow.conversations.get(tenant_id, conversation_id)
        if found is None:
            raise NotFound(f"tenants/{tenant_id}/conversations/{conversation_id} not found")
        return found

    async def list(
        self,
        principal: Principal,
        tenant_id: str,
        where: ConversationFilter,
        *,
        size: int,
        token: str,
    ) -> ConversationPage:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        async with self._store.scoped(tenant_id) as uow:
            return await list_conversations(
                uow.conversations, tenant_id, where, size=size, token=token, now=self._clock.now()
            )

    async def _change(
        self,
        principal: Principal,
        tenant_id: str,
        conversation_id: str,
        etag: str,
        change: Change,
        after_commit: Callable[[Conversation], Awaitable[None]] | None = None,
    ) -> Conversation:
        tenant_id = self._tenant(principal, tenant_id, conversation_id)
        async with self._store.scoped(tenant_id) as uow:
            current = await self._load(uow, tenant_id, conversation_id)
            check_etag(etag, current)
            changed = change(current, self._clock.now())
            if changed is None or changed == replace(current, update_time=changed.update_time):
                return current
            saved = await uow.conversations.update(changed, expected_version=current.version)
            for event in events_for(current, saved):
                await uow.events.record(event)
            await uow.commit()
        if after_commit is not None:
            await after_commit(saved)
        return saved

    async def update(
        self,
        principal: Principal,
        tenant_id: str,
        conversation_id: str,
        changes: ConversationChanges,
        etag: str = "",
    ) -> Conversation:
        return await self._change(
            principal,
            tenant_id,
            conversation_id,
            etag,
            lambda c, now: apply_changes(c, changes, now),
        )

    async def assign(
        self,
        principal: Principal,
        tenant_id: str,
        conversation_id: str,
        user_id: str | None,
        etag: str = "",
    ) -> Conversation:
        """Assign to ``user_id`` (an active member of the tenant) or unassign (None)."""
        tenant_id = self._tenant(principal, tenant_id, conversation_id)
        if user_id is not None and not await self._members.is_active_member(
            principal, tenant_id, user_id
        ):
            raise InvalidArgument.for_field(
                "assignee", f"tenants/{tenant_id}/users/{user_id} is not an active user here"
            )
        return await self._change(
            principal, tenant_id, conversation_id, etag, lambda c, now: c.assign(user_id, now)
        )

    async def resolve(
        self, principal: Principal, tenant_id: str, conversation_id: str, etag: str = ""
    ) -> Conversation:
        return await self._change(
            principal, tenant_id, conversation_id, etag, lambda c, now: c.resolve(now)
        )

    async def reopen(
        self, principal: Principal, tenant_id: str, conversation_id: str, etag: str = ""
    ) -> Conversation:
        return await self._change(
            principal, tenant_id, conversation_id, etag, lambda c, now: c.reopen(now)
        )

    async def snooze(
        self,
        principal: Principal,
        tenant_id: str,
        conversation_id: str,
        until: datetime,
        etag: str = "",
    ) -> Conversation:
        return await self._change(
            principal, tenant_id, conversation_id, etag, lambda c, now: c.snooze(until, now)
        )

    async def mark_read(
        self,
        principal: Principal,
        tenant_id: str,
        conversation_id: str,
        last_read_message_id: str | None = None,
    ) -> Conversation:
        """Inbound messages up to ``last_read_message_id`` (all when None) become READ and
        the unread count drops accordingly (to 0 when all); messaging's read-receipt hook
        hears about the messages that just became READ once that is committed."""
        tenant_id = self._tenant(principal, tenant_id, conversation_id)
        async with self._store.scoped(tenant_id) as uow:
            current = await self._load(uow, tenant_id, conversation_id)
            up_to = None
            if last_read_message_id is not None:
                up_to = await uow.messages.seq_of(tenant_id, conversation_id, last_read_message_id)
                if up_to is None:
                    raise InvalidArgument.for_field(
                        "last_read_message", "is not a message of this conversation"
                    )
            now = self._clock.now()
            read_ids = await uow.messages.mark_inbound_read(tenant_id, conversation_id, up_to, now)
            unread = 0 if up_to is None else max(0, current.unread_count - len(read_ids))
            if unread == current.unread_count and not read_ids:
                return current
            changed = replace(current.mark_read(now), unread_count=unread)
            saved = await uow.conversations.update(changed, expected_version=current.version)
            await uow.events.record(ConversationUpdated(saved))
            await uow.commit()
        if read_ids:
            await self._receipts.messages_read(saved, read_ids)
        return saved

    async def send_typing(
        self, principal: Principal, tenant_id: str, conversation_id: str, typing: bool
    ) -> bool:
        """Whether the conversation's channel supports typing indicators (messaging's hook
        sends it through the channel's adapter)."""
        conversation = await self.get(principal, tenant_id, conversation_id)
        return await self._typing.send_typing(conversation, typing, principal.actor)
