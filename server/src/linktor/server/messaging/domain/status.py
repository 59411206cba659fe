"""The delivery status machine: statuses only move forward (DESIGN §4).

ACCEPTED -> QUEUED -> SENT -> DELIVERED -> READ, or FAILED from any state before DELIVERED.
A provider may report DELIVERED or READ before Linktor recorded SENT (callbacks race the send
result); such jumps forward are allowed, moving back never is. FAILED after DELIVERED is
ignored: the message reached the device, a late failure report cannot undo that.
"""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    QUEUED = "QUEUED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"


class Direction(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class SenderType(StrEnum):
    CONTACT = "CONTACT"
    USER = "USER"
    API_KEY = "API_KEY"
    SYSTEM = "SYSTEM"


_RANK = {
    MessageStatus.ACCEPTED: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
}

# Statuses in which delivery is still being attempted.
PENDING = frozenset({MessageStatus.ACCEPTED, MessageStatus.QUEUED})


def can_move(current: MessageStatus, new: MessageStatus) -> bool:
    """Whether a message in ``current`` may take status ``new``."""
    if current is MessageStatus.FAILED:
        # A failed message stays failed, except that the provider may still report that it
        # did arrive (some providers report an error, then a delivery).
        return new in (MessageStatus.DELIVERED, MessageStatus.READ)
    if new is MessageStatus.FAILED:
        return _RANK[current] < _RANK[MessageStatus.DELIVERED]
    return _RANK[new] > _RANK[current]


def statuses_before(new: MessageStatus) -> list[MessageStatus]:
    """Every status from which ``new`` may be reached (for conditional SQL updates)."""
    return [s for s in MessageStatus if can_move(s, new)]
