"""Free-form labels (contact and conversation tags): trimmed, de-duplicated, bounded."""

from __future__ import annotations

from collections.abc import Iterable

from linktor.server.shared.errors import FieldViolation

MAX_TAG_LENGTH = 64


def normalize_tags(
    tags: Iterable[str], field_path: str, limit: int
) -> tuple[tuple[str, ...], list[FieldViolation]]:
    """Trimmed tags, duplicates dropped (the first kept), and the violations found, each
    naming its field path (``contact.tags[3]``)."""
    found: list[FieldViolation] = []
    kept: list[str] = []
    for index, raw in enumerate(tags):
        tag = raw.strip()
        if not tag or len(tag) > MAX_TAG_LENGTH:
            found.append(
                FieldViolation(
                    f"{field_path}[{index}]", f"must be 1 to {MAX_TAG_LENGTH} characters"
                )
            )
        elif tag not in kept:
            kept.append(tag)
    if len(kept) > limit:
        found.append(FieldViolation(field_path, f"at most {limit} tags (got {len(kept)})"))
    return tuple(kept), found
