"""Moving a merged contact's conversations to the surviving contact (inside the contact
merge's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from linktor.server.conversations.app.ports import ConversationMessages, ConversationStore
from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.conversations.domain.merge import interleave, merged_conversation


class ConversationData(Protocol):
    @property
    def conversations(self) -> ConversationStore: ...

    @property
    def messages(self) -> ConversationMessages: ...


@dataclass
class MergeOutcome:
    # The survivor's conversations that changed (moved over or grown by a merge).
    changed: dict[str, Conversation] = field(default_factory=dict)
    # Conversations absorbed into another one and deleted.
    absorbed: list[Conversation] = field(default_factory=list)


async def merge_contact_conversations(
    uow: ConversationData,
    tenant_id: str,
    survivor_id: str,
    source_ids: Sequence[str],
    survivor_name: str,
    now: datetime,
) -> MergeOutcome:
    """Give ``survivor_id`` the conversations of ``source_ids``. On a channel where the
    survivor already has a conversation, the two become one: the messages interleave in time
    order and are numbered again (see conversations.domain.merge). Every conversation
    involved is locked first, so sends into them wait for the merge."""
    outcome = MergeOutcome()
    repo = uow.conversations
    by_channel = {
        c.channel_id: c
        for c in await repo.list_for_contact(tenant_id, survivor_id, for_update=True)
    }
    for source_id in source_ids:
        for conversation in await repo.list_for_contact(tenant_id, source_id, for_update=True):
            target = by_channel.get(conversation.channel_id)
            if target is None:
                moved = replace(conversation, contact_id=survivor_id, update_time=now)
                saved = await repo.update(moved, expected_version=conversation.version)
            else:
                order = interleave(
                    await uow.messages.positions(tenant_id, target.id),
                    await uow.messages.positions(tenant_id, conversation.id),
                )
                await uow.messages.place(tenant_id, target.id, order)
                await repo.delete(tenant_id, [conversation.id])
                grown = merged_conversation(target, conversation, len(order), now)
                saved = await repo.update(grown, expected_version=target.version)
                outcome.absorbed.append(conversation)
            saved = replace(saved, contact_display_name=survivor_name)
            by_channel[saved.channel_id] = outcome.changed[saved.id] = saved
    return outcome
