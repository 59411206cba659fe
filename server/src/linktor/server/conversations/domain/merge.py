"""Merging two conversations of one contact on one channel (after a contact merge).

The messages of both are interleaved in time order into the surviving conversation and
numbered again from 1. Each side keeps its own relative order (a stable merge of two
seq-ordered lists), so outbound messages still reach the provider in acceptance order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from linktor.server.conversations.domain.conversation import Conversation, ConversationStatus
from linktor.server.conversations.domain.fields import MAX_TAGS


@dataclass(frozen=True)
class MessagePosition:
    """Where a message sits in its conversation."""

    message_id: str
    seq: int
    create_time: datetime


def interleave(survivor: Sequence[MessagePosition], merged: Sequence[MessagePosition]) -> list[str]:
    """Message ids of both conversations in their new order. Both inputs are in seq order;
    the earlier create time goes first, the survivor's message on a tie."""
    order: list[str] = []
    i = j = 0
    while i < len(survivor) and j < len(merged):
        if merged[j].create_time < survivor[i].create_time:
            order.append(merged[j].message_id)
            j += 1
        else:
            order.append(survivor[i].message_id)
            i += 1
    order += [m.message_id for m in survivor[i:]]
    order += [m.message_id for m in merged[j:]]
    return order


# When the two disagree, the status needing more attention wins.
_ATTENTION = {
    ConversationStatus.OPEN: 3,
    ConversationStatus.PENDING: 2,
    ConversationStatus.SNOOZED: 1,
    ConversationStatus.RESOLVED: 0,
}


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def merged_conversation(
    survivor: Conversation, merged: Conversation, message_count: int, now: datetime
) -> Conversation:
    """The survivor after absorbing ``merged``'s messages (``message_count`` in all):
    unread counts add up, activity, preview and reply window come from the latest, tags
    unite, the status needing more attention wins, an assignee is kept."""
    newer = merged if merged.last_activity_time > survivor.last_activity_time else survivor
    status = max(survivor.status, merged.status, key=lambda s: _ATTENTION[s])
    snooze_time = None
    if status is ConversationStatus.SNOOZED:
        snooze_time = _latest(survivor.snooze_time, merged.snooze_time)
    return replace(
        survivor,
        status=status,
        snooze_time=snooze_time,
        assignee_user_id=survivor.assignee_user_id or merged.assignee_user_id,
        subject=survivor.subject or merged.subject,
        tags=tuple(dict.fromkeys((*survivor.tags, *merged.tags)))[:MAX_TAGS],
        unread_count=survivor.unread_count + merged.unread_count,
        last_activity_time=newer.last_activity_time,
        last_message_preview=newer.last_message_preview,
        last_inbound_time=_latest(survivor.last_inbound_time, merged.last_inbound_time),
        reply_window_expire_time=_latest(
            survivor.reply_window_expire_time, merged.reply_window_expire_time
        ),
        resolve_time=_latest(survivor.resolve_time, merged.resolve_time),
        message_seq=message_count,
        update_time=now,
    )
