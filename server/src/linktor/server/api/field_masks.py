"""Update masks (AIP-134) for the api rings.

``*`` names every updatable field; an absent or empty mask names the updatable fields the
request sets to a non-default value (so a PATCH of a few fields just works); a path that is
not updatable is an INVALID_ARGUMENT naming it.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from linktor.server.shared.errors import InvalidArgument


def _is_set(resource: Message, path: str) -> bool:
    value = getattr(resource, path)
    descriptor = resource.DESCRIPTOR.fields_by_name[path]
    if descriptor.message_type is not None and not descriptor.is_repeated:
        return resource.HasField(path)
    return bool(value)


def update_paths(
    mask: field_mask_pb2.FieldMask, resource: Message, updatable: Iterable[str], prefix: str
) -> set[str]:
    """The fields of ``resource`` (field path ``prefix``) an update changes."""
    allowed = set(updatable)
    paths = set(mask.paths)
    if "*" in paths:
        if len(paths) > 1:
            raise InvalidArgument.for_field("update_mask", "`*` must be the only path")
        return allowed
    if not paths:
        return {path for path in allowed if _is_set(resource, path)}
    for path in sorted(paths):
        if path not in allowed:
            raise InvalidArgument.for_field(
                "update_mask",
                f"{prefix}.{path} cannot be updated; use {', '.join(sorted(allowed))} or *",
            )
    return paths
