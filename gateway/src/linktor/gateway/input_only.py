"""INPUT_ONLY fields (google.api.field_behavior) are left out of REST responses.

AIP-203: an input-only field is provided in requests and never included in responses (a
password, a secret). The OpenAPI document marks them ``writeOnly``; since responses are
rendered with unpopulated fields written out, they would otherwise appear as ``""`` or ``{}``
and contradict it. Which fields to drop is worked out once per message type; types that
reach no input-only field (most of them) cost one dictionary look-up per response.
Messages inside ``google.protobuf.Any`` are not looked into.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

Prune = Callable[[Any], None]

_REACHES: dict[Descriptor, bool] = {}
_PRUNERS: dict[Descriptor, Prune | None] = {}


def _input_only(field: FieldDescriptor) -> bool:
    # Re-parsed through the generated FieldOptions so the extension resolves whatever pool
    # the field comes from.
    options = descriptor_pb2.FieldOptions.FromString(field.GetOptions().SerializeToString())
    return field_behavior_pb2.INPUT_ONLY in options.Extensions[field_behavior_pb2.field_behavior]


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _message_of(field: FieldDescriptor) -> Descriptor | None:
    """The message type whose values the field holds (a map's value type for maps)."""
    message = field.message_type
    if field.type != FieldDescriptor.TYPE_MESSAGE or message is None:
        return None
    if _is_map(field):
        return _message_of(message.fields_by_name["value"])
    if message.full_name.startswith("google.protobuf."):
        return None  # well-known types have no field behaviours
    return message


def _reaches(message: Descriptor, visiting: set[Descriptor] | None = None) -> bool:
    """Whether the message, or any message inside it, has an input-only field."""
    known = _REACHES.get(message)
    if known is not None:
        return known
    visiting = visiting or set()
    if message in visiting:
        return False  # a cycle adds nothing the first visit does not find
    visiting.add(message)
    found = False
    for field in message.fields:
        inner = _message_of(field)
        if _input_only(field) or (inner is not None and _reaches(inner, visiting)):
            found = True
    visiting.discard(message)
    if not visiting:
        _REACHES[message] = found
    return found


def pruner(message: Descriptor) -> Prune | None:
    """A function removing input-only fields from the JSON dict of ``message`` (in place),
    or None when the message reaches none."""
    if message in _PRUNERS:
        return _PRUNERS[message]
    if not _reaches(message):
        _PRUNERS[message] = None
        return None
    drop = [f.json_name for f in message.fields if _input_only(f)]
    nested: list[tuple[str, Descriptor, str]] = []
    for field in message.fields:
        inner = _message_of(field)
        if inner is not None and not _input_only(field) and _reaches(inner):
            kind = "map" if _is_map(field) else "list" if field.is_repeated else "one"
            nested.append((field.json_name, inner, kind))

    def prune(value: Any) -> None:
        if not isinstance(value, dict):
            return
        for name in drop:
            value.pop(name, None)
        for name, inner, kind in nested:
            child = value.get(name)
            apply = pruner(inner)
            if child is None or apply is None:
                continue
            if kind == "one":
                apply(child)
            else:
                for item in child.values() if kind == "map" else child:
                    apply(item)

    _PRUNERS[message] = prune
    return prune
