"""gRPC response message -> HTTP JSON body (proto3 JSON mapping, honouring response_body)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import Message

from linktor.gateway.input_only import pruner
from linktor.gateway.routes import Route


def _to_dict(message: Message, emit_unpopulated: bool, pool: DescriptorPool | None) -> Any:
    value = json_format.MessageToDict(
        message, always_print_fields_with_no_presence=emit_unpopulated, descriptor_pool=pool
    )
    prune = pruner(message.DESCRIPTOR)  # type: ignore[arg-type]  # upb's Descriptor is one
    if prune is not None:
        prune(value)
    return value


def response_json(
    route: Route, message: Message, *, emit_unpopulated: bool, pool: DescriptorPool | None
) -> object:
    """The JSON value of the response: the whole message, or its ``response_body`` field
    (input-only fields left out)."""
    field = route.response_field
    if field is None:
        return _to_dict(message, emit_unpopulated, pool)
    if field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated:
        return _to_dict(getattr(message, field.name), emit_unpopulated, pool)
    # Scalars and repeated fields: render with defaults so the body is never missing.
    return _to_dict(message, True, pool).get(field.json_name)


def dump_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def render_response(
    route: Route, message: Message, *, emit_unpopulated: bool, pool: DescriptorPool | None
) -> bytes:
    return dump_json(response_json(route, message, emit_unpopulated=emit_unpopulated, pool=pool))
