"""HTTP request -> gRPC request message, following the google.api.http rules.

Order of filling: the body first, then query parameters, then path variables, so that the
URL path always has the last word on the fields it binds (as in grpc-gateway). A query
parameter may not name a field that the path or the body binds: that is reported rather
than silently dropped, because a client sending it has a bug worth knowing about.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from urllib.parse import parse_qsl, unquote

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import Message

from linktor.gateway.routes import PathBinding, Route
from linktor.gateway.scalars import TEXT_MESSAGES, FieldValueError, set_from_text
from linktor.gateway.status import BadRequest

_ENCODED_SLASH = re.compile(r"(%2[Ff])")


def decode_variable(raw: str, *, single_segment: bool) -> str:
    """Percent-decode a captured path value as http.proto specifies.

    A single-segment variable is fully decoded; a multi-segment one keeps ``%2F`` / ``%2f``
    encoded, so the slashes that separate segments stay distinguishable from data.
    """
    try:
        if single_segment:
            return unquote(raw, errors="strict")
        parts = _ENCODED_SLASH.split(raw)
        return "".join(p if i % 2 else unquote(p, errors="strict") for i, p in enumerate(parts))
    except UnicodeDecodeError:
        raise BadRequest(f"path segment {raw!r} is not valid percent-encoded UTF-8") from None


def _captured_raw(binding: PathBinding, segments: list[str], template_length: int) -> str:
    start, end = binding.variable.start, binding.variable.end
    if end == template_length and len(segments) != template_length:
        end = len(segments)  # the variable ends with "**", which took the remaining segments
    return "/".join(segments[start:end])


def _set_path_value(message: Message, binding: PathBinding, value: str) -> None:
    target = message
    for outer in binding.fields[:-1]:
        target = getattr(target, outer.name)
    try:
        set_from_text(target, binding.fields[-1], value)
    except FieldValueError as error:
        raise BadRequest(
            f"path variable {binding.variable.name!r}: {error}", binding.variable.name
        ) from None


@lru_cache(maxsize=4096)
def resolve_query_name(message: Descriptor, name: str) -> tuple[FieldDescriptor, ...]:
    """Fields named by a dotted query parameter; each part may be the proto or JSON name."""
    fields: list[FieldDescriptor] = []
    current: Descriptor | None = message
    for part in name.split("."):
        if current is None or (fields and fields[-1].is_repeated):
            raise BadRequest(
                f"query parameter {name!r}: {fields[-1].name!r} has no subfields", name
            )
        found = current.fields_by_name.get(part) or current.fields_by_camelcase_name.get(part)
        if found is None:
            raise BadRequest(
                f"query parameter {name!r}: {current.full_name} has no field {part!r}", name
            )
        fields.append(found)
        current = (
            None
            if found.message_type is None or found.message_type.full_name in TEXT_MESSAGES
            else found.message_type
        )
    leaf = fields[-1]
    if leaf.message_type is not None and leaf.message_type.GetOptions().map_entry:
        raise BadRequest(f"query parameter {name!r}: map fields cannot be set from the query", name)
    if leaf.message_type is not None and leaf.message_type.full_name not in TEXT_MESSAGES:
        raise BadRequest(
            f"query parameter {name!r} is a message; set its fields as {name}.<field>", name
        )
    return tuple(fields)


def _check_not_bound(route: Route, name: str, fields: tuple[FieldDescriptor, ...]) -> None:
    names = tuple(f.name for f in fields)
    for binding in route.path_bindings:
        bound = tuple(f.name for f in binding.fields)
        shorter = min(len(bound), len(names))
        if bound[:shorter] == names[:shorter]:
            raise BadRequest(f"query parameter {name!r} is already bound by the URL path", name)
    if route.body_field is not None and names[0] == route.body_field.name:
        raise BadRequest(f"query parameter {name!r} is part of the request body", name)


def _apply_query(route: Route, message: Message, query_string: str) -> None:
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("query string is not valid percent-encoded UTF-8") from None
    # System parameters ($alt, $fields...) of Google REST clients are not fields: ignored.
    pairs = [(name, value) for name, value in pairs if not name.startswith("$")]
    if pairs and route.body == "*":
        name = pairs[0][0]
        raise BadRequest(
            f"query parameter {name!r} not allowed: every field goes in the body", name
        )
    seen: set[tuple[str, ...]] = set()
    descriptor = message.DESCRIPTOR
    for name, value in pairs:
        fields = resolve_query_name(descriptor, name)
        _check_not_bound(route, name, fields)
        key = tuple(f.name for f in fields)
        leaf = fields[-1]
        if key in seen and not leaf.is_repeated:
            raise BadRequest(f"query parameter {name!r} given more than once", name)
        seen.add(key)
        target = message
        for outer in fields[:-1]:
            target = getattr(target, outer.name)
        oneof = leaf.containing_oneof
        if oneof is not None and target.WhichOneof(oneof.name) not in (None, leaf.name):
            raise BadRequest(
                f"query parameter {name!r}: another field of oneof {oneof.name!r} is set", name
            )
        try:
            set_from_text(target, leaf, value)
        except FieldValueError as error:
            raise BadRequest(f"query parameter {name!r}: {error}", name) from None


def _apply_body(route: Route, message: Message, body: bytes, pool: DescriptorPool | None) -> None:
    if not body.strip():
        return
    if not route.body:
        raise BadRequest(f"{route.http_method} {route.template.source} takes no request body")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"request body is not valid JSON: {error}") from None
    if route.body_field is not None:
        data = {route.body_field.name: data}
    elif not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        json_format.ParseDict(data, message, descriptor_pool=pool)
    except json_format.ParseError as error:
        raise BadRequest(f"invalid request body: {error}") from None


def build_request(
    route: Route,
    segments: list[str],
    query_string: str,
    body: bytes,
    pool: DescriptorPool | None = None,
) -> Message:
    """The gRPC request message for one HTTP request that matched ``route``."""
    message = route.request_class()
    _apply_body(route, message, body, pool)
    if query_string:
        _apply_query(route, message, query_string)
    length = len(route.template.segments)
    for binding in route.path_bindings:
        raw = _captured_raw(binding, segments, length)
        _set_path_value(
            message, binding, decode_variable(raw, single_segment=binding.single_segment)
        )
    return message
