"""gRPC response message -> HTTP JSON body (proto3 JSON mapping, honouring response_body)."""

from __future__ import annotations

import json

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import Message

from linktor.gateway.routes import Route


def response_json(
    route: Route, message: Message, *, emit_unpopulated: bool, pool: DescriptorPool | None
) -> object:
    """The JSON value of the response: the whole message, or its ``response_body`` field."""
    field = route.response_field
    if field is None:
        return json_format.MessageToDict(
            message, always_print_fields_with_no_presence=emit_unpopulated, descriptor_pool=pool
        )
    if field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated:
        return json_format.MessageToDict(
            getattr(message, field.name),
            always_print_fields_with_no_presence=emit_unpopulated,
            descriptor_pool=pool,
        )
    # Scalars and repeated fields: render with defaults so the body is never missing.
    whole = json_format.MessageToDict(
        message, always_print_fields_with_no_presence=True, descriptor_pool=pool
    )
    return whole.get(field.json_name)


def dump_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def render_response(
    route: Route, message: Message, *, emit_unpopulated: bool, pool: DescriptorPool | None
) -> bytes:
    return dump_json(response_json(route, message, emit_unpopulated=emit_unpopulated, pool=pool))
