"""Event types and subjects."""

from __future__ import annotations

import re

MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_RESOLVED = "conversation.resolved"
CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_MERGED = "contact.merged"
CONTACT_DELETED = "contact.deleted"
TYPING_STARTED = "typing.started"
TYPING_STOPPED = "typing.stopped"
READ_RECEIPT = "read_receipt.created"

# Durable subject of a tenant's stored events (JetStream LINKTOR_EVENTS), and the core
# subject on which every replica fans events out to its live streams.
EVENTS_SUBJECT_PREFIX = "linktor.events."
LIVE_SUBJECT_PREFIX = "linktor.live."


def events_subject(tenant_id: str) -> str:
    return f"{EVENTS_SUBJECT_PREFIX}{tenant_id}"


def live_subject(tenant_id: str) -> str:
    return f"{LIVE_SUBJECT_PREFIX}{tenant_id}"


def type_matcher(patterns: list[str]) -> re.Pattern[str] | None:
    """A regex matching event types against patterns with ``*`` per dot-separated segment
    ("message.*"); None matches everything."""
    if not patterns:
        return None
    parts = []
    for pattern in patterns:
        segments = [("[^.]+" if s == "*" else re.escape(s)) for s in pattern.split(".")]
        parts.append(r"\.".join(segments))
    return re.compile("^(?:" + "|".join(parts) + ")$")
