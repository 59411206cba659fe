"""Assembling the OpenAPI 3.1 document: info, paths, schemas, security, the error model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor
from google.protobuf.descriptor_pool import DescriptorPool
from google.rpc import status_pb2  # type: ignore[import-untyped, unused-ignore]

from linktor.gateway.openapi.comments import comments_of
from linktor.gateway.openapi.paths import STATUS_REF, QueryParameters, openapi_path
from linktor.gateway.openapi.schemas import Schema, SchemaBuilder
from linktor.gateway.routes import Route

OPENAPI_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NDJSON = "application/x-ndjson"
SSE = "text/event-stream"

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from the login endpoint: `Authorization: Bearer <jwt>`.",
    },
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "API key",
        "description": "An API key, sent the same way: `Authorization: Bearer <api key>`.",
    },
}


@dataclass(frozen=True)
class OpenApiOptions:
    title: str = "API"
    version: str = "v1"
    description: str = ""
    servers: tuple[str, ...] = ()
    # Fully qualified method names that need no credentials (security: []).
    public_methods: frozenset[str] = field(default_factory=frozenset)


def _declared(
    files: Iterable[descriptor_pb2.FileDescriptorProto], packages: set[str], pool: DescriptorPool
) -> tuple[list[Descriptor], list[EnumDescriptor]]:
    """Every message and enum declared in the files of the given packages."""
    messages: list[Descriptor] = []
    enums: list[EnumDescriptor] = []

    def walk(descriptor: Descriptor) -> None:
        messages.append(descriptor)
        enums.extend(descriptor.enum_types)
        for nested in descriptor.nested_types:
            if not nested.GetOptions().map_entry:
                walk(nested)

    for file in files:
        if file.package in packages:
            for message in file.message_type:
                walk(pool.FindMessageTypeByName(f"{file.package}.{message.name}"))
            enums.extend(
                pool.FindEnumTypeByName(f"{file.package}.{e.name}") for e in file.enum_type
            )
    return messages, enums


class _Builder:
    def __init__(self, comments: dict[str, str], options: OpenApiOptions) -> None:
        self.comments = comments
        self.options = options
        self.schemas = SchemaBuilder(comments)
        self.query = QueryParameters(self.schemas)

    def path_parameters(self, route: Route) -> tuple[str, list[dict[str, Any]]]:
        path, params = openapi_path(route)
        out = []
        bindings = {b.variable.name: b for b in route.path_bindings}
        for name, variable, shown in params:
            binding = bindings.get(variable)
            schema: Schema = {"type": "string"}
            if binding is not None and binding.single_segment:
                schema = self.schemas.property(binding.fields[-1])
                for key in ("readOnly", "writeOnly"):
                    schema.pop(key, None)
            description = schema.pop("description", "")
            if binding is not None and not binding.single_segment:
                description = f"A segment of `{variable}` (`{shown}`)."
            param = {"name": name, "in": "path", "required": True, "schema": schema}
            if description:
                param["description"] = description
            out.append(param)
        return path, out

    def request_body(self, route: Route) -> dict[str, Any] | None:
        if not route.body:
            return None
        if route.body_field is not None:
            schema = self.schemas.property(route.body_field)
        else:
            message = route.method.input_type
            bound = frozenset(b.fields[0].name for b in route.path_bindings if len(b.fields) == 1)
            if bound:
                self.schemas.message(message)  # still list the full message as a component
                schema = self.schemas.object_schema(message, exclude=bound)
            else:
                schema = self.schemas.message(message)
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def responses(self, route: Route) -> dict[str, Any]:
        if route.response_field is not None:
            schema = self.schemas.property(route.response_field)
        else:
            schema = self.schemas.message(route.method.output_type)
        if route.server_streaming:
            line = {"type": "object", "properties": {"result": schema, "error": STATUS_REF}}
            content: dict[str, Any] = {
                NDJSON: {"schema": line},
                SSE: {"schema": {"type": "string"}},
            }
            ok = {
                "description": "A stream of messages (NDJSON or Server-Sent Events, by Accept).",
                "content": content,
            }
        else:
            ok = {"description": "OK", "content": {"application/json": {"schema": schema}}}
        error = {
            "description": "An error: the google.rpc.Status JSON.",
            "content": {"application/json": {"schema": STATUS_REF}},
        }
        return {"200": ok, "default": error}

    def operation(self, route: Route, operation_id: str) -> tuple[str, dict[str, Any]]:
        method = route.method
        path, path_params = self.path_parameters(route)
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": method.name,
            "tags": [method.containing_service.name],
        }
        description = self.comments.get(method.full_name)
        if description:
            operation["description"] = description
        parameters = path_params + self.query.of(route)
        if parameters:
            operation["parameters"] = parameters
        body = self.request_body(route)
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self.responses(route)
        if method.full_name in self.options.public_methods:
            operation["security"] = []
        pagination = _pagination(route)
        if pagination:
            operation["x-pagination"] = pagination
        return path, operation


def _pagination(route: Route) -> dict[str, str]:
    request, response = route.method.input_type.fields_by_name, route.method.output_type
    if (
        not {"page_size", "page_token"} <= set(request)
        or "next_page_token" not in response.fields_by_name
    ):
        return {}
    items = next((f.json_name for f in response.fields if f.is_repeated), "")
    return {
        "pageSize": "pageSize",
        "pageToken": "pageToken",
        "nextPageToken": "nextPageToken",
        "items": items,
    }


def _openapi_methods(http_method: str) -> list[str]:
    """OpenAPI names of a binding's method: ``custom: {kind: "*"}`` stands for all of them;
    a custom kind OpenAPI cannot express (not an HTTP method it knows) is left out."""
    if http_method == "*":
        return ["get", "put", "post", "delete", "patch"]
    return [http_method.lower()] if http_method.lower() in OPENAPI_METHODS else []


def build_openapi(
    routes: Sequence[Route],
    files: Sequence[descriptor_pb2.FileDescriptorProto],
    pool: DescriptorPool,
    options: OpenApiOptions | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes``, with a schema for every message and enum of
    the packages that have routes, described by the comments found in ``files``."""
    options = options or OpenApiOptions()
    builder = _Builder(comments_of(files), options)
    paths: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    for route in routes:
        name = f"{route.method.containing_service.name}_{route.method.name}"
        for http_method in _openapi_methods(route.http_method):
            counts[name] = counts.get(name, 0) + 1
            operation_id = name if counts[name] == 1 else f"{name}_{counts[name]}"
            path, operation = builder.operation(route, operation_id)
            paths.setdefault(path, {})[http_method] = operation
    packages = {r.method.containing_service.file.package for r in routes}
    messages, enums = _declared(files, packages, pool)
    for message in messages:
        builder.schemas.message(message)
    for enum in enums:
        builder.schemas.enum(enum)
    builder.schemas.message(status_pb2.Status.DESCRIPTOR)
    services = sorted({r.method.containing_service for r in routes}, key=lambda s: s.full_name)
    tags = [
        {
            "name": s.name,
            **(
                {"description": builder.comments[s.full_name]}
                if s.full_name in builder.comments
                else {}
            ),
        }
        for s in services
    ]
    info: dict[str, Any] = {"title": options.title, "version": options.version}
    if options.description:
        info["description"] = options.description
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info}
    if options.servers:
        document["servers"] = [{"url": url} for url in options.servers]
    document["tags"] = tags
    document["security"] = [{name: []} for name in SECURITY_SCHEMES]
    document["paths"] = {path: paths[path] for path in sorted(paths)}
    document["components"] = {
        "schemas": {
            name: builder.schemas.schemas[name] for name in sorted(builder.schemas.schemas)
        },
        "securitySchemes": SECURITY_SCHEMES,
    }
    return document
