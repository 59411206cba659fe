"""OpenAPI path items and operations from gateway routes.

Multi-segment path variables are spelled out in the OpenAPI path so that ordinary REST
clients build the right URL: ``/v1/{name=tenants/*/channels/*}`` becomes
``/v1/tenants/{tenant}/channels/{channel}``, each ``*`` named after the collection segment
before it. The gateway puts the segments back together into the ``name`` field.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from linktor.gateway.openapi.schemas import WELL_KNOWN, Schema, SchemaBuilder, ref
from linktor.gateway.routes import Route
from linktor.gateway.scalars import TEXT_MESSAGES
from linktor.gateway.template import SegmentKind

STATUS_REF = ref("google.rpc.Status")
_MAX_QUERY_DEPTH = 3


def singular(collection: str) -> str:
    if collection.endswith("ies"):
        return collection[:-3] + "y"
    if collection.endswith("lves"):
        return collection[:-3] + "f"  # shelves -> shelf
    if collection.endswith("sses"):
        return collection[:-2]
    if collection.endswith("s") and len(collection) > 1:
        return collection[:-1]
    return collection + "Id"


def openapi_path(route: Route) -> tuple[str, list[tuple[str, str, str]]]:
    """The OpenAPI path and its parameters as (parameter, variable name, variable template)."""
    template = route.template
    owner: dict[int, str] = {}
    for captured in template.variables:
        for index in range(captured.start, captured.end):
            owner[index] = captured.name
    parts: list[str] = []
    params: list[tuple[str, str, str]] = []
    used: set[str] = set()
    for index, segment in enumerate(template.segments):
        variable_name = owner.get(index, "")
        if segment.kind is SegmentKind.LITERAL:
            parts.append(segment.literal)
            continue
        variable = next((v for v in template.variables if v.name == variable_name), None)
        if variable is not None and variable.end - variable.start == 1:
            name = variable_name
        elif index > 0 and template.segments[index - 1].kind is SegmentKind.LITERAL:
            name = singular(template.segments[index - 1].literal)
        else:
            name = f"{variable_name or 'segment'}{index}"
        while name in used:
            name += "_"
        used.add(name)
        shown = (
            "/".join(str(s) for s in template.segments[variable.start : variable.end])
            if variable
            else str(segment)
        )
        parts.append("{" + name + "}")
        params.append((name, variable_name, shown))
    path = "/" + "/".join(parts)
    if template.verb:
        path += ":" + template.verb
    return path, params


def _query_parameter(schema: Schema, name: str) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
    if "description" in schema:
        param["description"] = schema.pop("description")
    if schema.get("type") == "array":
        param["explode"] = True  # ?tag=a&tag=b
    return param


class QueryParameters:
    """The query parameters of a route: every leaf field not bound by the path or body."""

    def __init__(self, schemas: SchemaBuilder) -> None:
        self.schemas = schemas

    def of(self, route: Route) -> list[dict[str, Any]]:
        if route.body == "*":
            return []
        skip = {".".join(f.name for f in b.fields) for b in route.path_bindings}
        if route.body_field is not None:
            skip.add(route.body_field.name)
        message = route.method.input_type
        return self._walk(message, "", "", skip, (message.full_name,))

    def _walk(
        self,
        message: Descriptor,
        proto_prefix: str,
        json_prefix: str,
        skip: set[str],
        seen: tuple[str, ...],
    ) -> list[dict[str, Any]]:
        params: list[dict[str, Any]] = []
        for field in message.fields:
            proto_path = proto_prefix + field.name
            if proto_path in skip:
                continue
            json_path = json_prefix + field.json_name
            nested = field.message_type
            if nested is not None and nested.full_name not in TEXT_MESSAGES:
                if nested.full_name not in WELL_KNOWN and _is_nested_query(field, seen):
                    params += self._walk(
                        nested, proto_path + ".", json_path + ".", skip, (*seen, nested.full_name)
                    )
                continue
            params.append(_query_parameter(self.schemas.property(field), json_path))
        return params


def _is_nested_query(field: FieldDescriptor, seen: tuple[str, ...]) -> bool:
    # Repeated messages and maps cannot be query parameters; recursion stops at a cycle.
    nested = field.message_type
    return (
        not field.is_repeated
        and len(seen) <= _MAX_QUERY_DEPTH
        and nested is not None
        and nested.full_name not in seen
    )
