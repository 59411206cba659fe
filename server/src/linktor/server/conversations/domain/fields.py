"""The editable fields of a conversation and their limits."""

from __future__ import annotations

from collections.abc import Iterable

from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.tags import normalize_tags

MAX_TAGS = 20
MAX_SUBJECT = 200


def validate_subject(subject: str, field_path: str = "conversation.subject") -> str:
    value = " ".join(subject.split())
    if len(value) > MAX_SUBJECT:
        raise InvalidArgument.for_field(field_path, f"must be at most {MAX_SUBJECT} characters")
    return value


def validate_tags(tags: Iterable[str], field_path: str = "conversation.tags") -> tuple[str, ...]:
    """Trimmed, de-duplicated tags; InvalidArgument naming every bad one."""
    kept, found = normalize_tags(tags, field_path, MAX_TAGS)
    if found:
        raise InvalidArgument("; ".join(f"{v.field}: {v.description}" for v in found), found)
    return kept
