"""Provider-approved message templates of a channel (WhatsApp HSMs ...), as last synced.

A template is identified at the provider by name and language; the platform gives each an
id of its own that stays the same across syncs, for its resource name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class ComponentKind(StrEnum):
    HEADER = "HEADER"
    BODY = "BODY"
    BUTTON = "BUTTON"
    FOOTER = "FOOTER"


@dataclass(frozen=True)
class TemplateComponent:
    kind: ComponentKind
    # For headers: TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION.
    format: str = ""
    # The text with its placeholders ({{1}}, {{name}}).
    text: str = ""
    parameter_count: int = 0
    button_sub_type: str = ""
    button_text: str = ""
    parameter_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageTemplate:
    id: str
    tenant_id: str
    channel_id: str
    template_name: str
    language: str
    category: str
    status: str
    provider_template_id: str
    components: tuple[TemplateComponent, ...]
    sync_time: datetime

    @property
    def key(self) -> tuple[str, str]:
        """How the provider identifies it: (name, language)."""
        return self.template_name, self.language

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/channels/{self.channel_id}/messageTemplates/{self.id}"

    def component(self, kind: ComponentKind, index: int = 0) -> TemplateComponent | None:
        """The ``index``-th component of ``kind`` (buttons are counted among buttons, as
        TemplateContent.components[].button_index counts them), or None."""
        found = [c for c in self.components if c.kind is kind]
        return found[index] if 0 <= index < len(found) else None

    def same_definition(self, other: MessageTemplate) -> bool:
        """Whether the provider's view of the two is the same (ids and sync times aside)."""
        return (
            self.category == other.category
            and self.status == other.status
            and self.provider_template_id == other.provider_template_id
            and self.components == other.components
        )


@dataclass(frozen=True)
class TemplateChanges:
    """What a sync does to the stored templates of a channel."""

    added: tuple[MessageTemplate, ...]
    changed: tuple[MessageTemplate, ...]
    removed: tuple[MessageTemplate, ...]

    @property
    def count(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)


def reconcile(
    stored: Iterable[MessageTemplate], fetched: Sequence[MessageTemplate]
) -> TemplateChanges:
    """Compare what the provider returned with what is stored, by (name, language).

    Fetched templates that are new are added with their own ids; changed ones keep the
    stored id; stored ones the provider no longer lists are removed. When the provider
    lists a (name, language) twice, the first wins.
    """
    by_key = {t.key: t for t in stored}
    seen: set[tuple[str, str]] = set()
    added: list[MessageTemplate] = []
    changed: list[MessageTemplate] = []
    for template in fetched:
        if template.key in seen:
            continue
        seen.add(template.key)
        old = by_key.get(template.key)
        if old is None:
            added.append(template)
        elif not old.same_definition(template):
            changed.append(replace(template, id=old.id))
    removed = tuple(t for key, t in by_key.items() if key not in seen)
    return TemplateChanges(tuple(added), tuple(changed), removed)
