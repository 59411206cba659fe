"""Checking a template message against the channel's synced template before sending.

Providers refuse a template whose parameters do not match its definition (WhatsApp error
132000), after the message was accepted and queued. Checking here turns that into an
immediate INVALID_ARGUMENT naming the component. Channels whose templates were never synced
are not checked (nothing to check against).
"""

from __future__ import annotations

from dataclasses import dataclass

from linktor.server.messaging.domain.validation import Violations
from linktor.v1 import content_pb2

APPROVED = "APPROVED"

_KIND_OF = {
    content_pb2.TEMPLATE_COMPONENT_TYPE_HEADER: "HEADER",
    content_pb2.TEMPLATE_COMPONENT_TYPE_BODY: "BODY",
    content_pb2.TEMPLATE_COMPONENT_TYPE_BUTTON: "BUTTON",
    content_pb2.TEMPLATE_COMPONENT_TYPE_FOOTER: "FOOTER",
}


@dataclass(frozen=True)
class TemplateSlot:
    """A component of a template definition that takes parameters."""

    kind: str  # HEADER, BODY or BUTTON
    index: int  # position among components of that kind (buttons are numbered)
    parameter_count: int


@dataclass(frozen=True)
class TemplateShape:
    name: str
    language: str
    status: str
    slots: tuple[TemplateSlot, ...]


def check_template(
    template: content_pb2.TemplateContent,
    shape: TemplateShape | None,
    *,
    synced: bool,
) -> None:
    """Raise InvalidArgument when ``template`` does not fit the channel's definition."""
    v = Violations()
    f = "content.template"
    if shape is None:
        if synced:
            v.add(
                f"{f}.name",
                f"{template.name!r} in {template.language!r} is not an approved template of this "
                "channel (sync the channel's templates if it was added recently)",
            )
        v.raise_if_any()
        return
    if shape.status and shape.status != APPROVED:
        v.add(f"{f}.name", f"template {template.name!r} is {shape.status}, not APPROVED")
    given: dict[tuple[str, int], tuple[int, int]] = {}
    for i, component in enumerate(template.components):
        kind = _KIND_OF.get(component.type, "")
        index = component.button_index if kind == "BUTTON" else 0
        given[(kind, index)] = (i, len(component.parameters))
    expected = {(s.kind, s.index): s.parameter_count for s in shape.slots}
    for (kind, index), count in expected.items():
        position, got = given.get((kind, index), (-1, 0))
        label = f"{kind} {index}" if kind == "BUTTON" else kind
        if got != count:
            field = f"{f}.components[{position}].parameters" if position >= 0 else f"{f}.components"
            v.add(field, f"the {label} of {template.name!r} takes {count} parameters, got {got}")
    for (kind, index), (position, got) in given.items():
        if (kind, index) not in expected and got:
            v.add(
                f"{f}.components[{position}].parameters",
                f"{template.name!r} has no {kind.lower()} parameters to fill",
            )
    v.raise_if_any()
