"""From service descriptors to HTTP routes: read every google.api.http rule and check it.

Everything a request needs at run time (field descriptors of the path variables, the body
and response_body fields, the message classes) is resolved here once, so that a bad
annotation fails at start with a message naming the method, not on the first request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf import descriptor_pb2, message_factory
from google.protobuf.descriptor import (
    Descriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from google.protobuf.message import Message

from linktor.gateway.router import Router
from linktor.gateway.template import PathTemplate, TemplateError, Variable, parse_template

STANDARD_METHODS = ("get", "put", "post", "delete", "patch")


class RouteError(ValueError):
    """An HttpRule that cannot be served; the message names the method and the problem."""


class RouteConflictError(RouteError):
    """Two bindings match exactly the same requests."""


@dataclass(frozen=True, slots=True)
class PathBinding:
    """A path variable and the (possibly nested) request field it fills."""

    variable: Variable
    fields: tuple[FieldDescriptor, ...]
    single_segment: bool


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One HTTP binding of one gRPC method."""

    method: MethodDescriptor
    http_method: str
    template: PathTemplate
    body: str
    response_body: str
    path_bindings: tuple[PathBinding, ...]
    body_field: FieldDescriptor | None
    response_field: FieldDescriptor | None
    request_class: type[Message]
    response_class: type[Message]

    @property
    def grpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def server_streaming(self) -> bool:
        return bool(self.method.server_streaming)

    def describe(self) -> str:
        return f"{self.http_method} {self.template.source} ({self.method.full_name})"


@dataclass
class RouteTable:
    """Every route, plus the router that finds one for a request."""

    routes: list[Route]
    router: Router[Route] = field(init=False)
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.router = Router()
        for route in self.routes:
            self.router.add(route.http_method, route.template, route)


def http_rule_of(method: MethodDescriptor) -> http_pb2.HttpRule | None:
    """The method's google.api.http option, whatever descriptor pool the method comes from."""
    raw = method.GetOptions().SerializeToString()
    options = descriptor_pb2.MethodOptions.FromString(raw)
    if not options.HasExtension(annotations_pb2.http):
        return None
    return options.Extensions[annotations_pb2.http]


def bindings_of(rule: http_pb2.HttpRule) -> list[tuple[str, str, http_pb2.HttpRule]]:
    """(HTTP method, path, rule) for the rule and each of its additional_bindings."""
    out = []
    for binding in [rule, *rule.additional_bindings]:
        kind = binding.WhichOneof("pattern")
        if kind is None:
            continue
        if kind == "custom":
            out.append((binding.custom.kind.upper(), binding.custom.path, binding))
        else:
            out.append((kind.upper(), getattr(binding, kind), binding))
    return out


def _resolve_path(message: Descriptor, path: tuple[str, ...], where: str) -> list[FieldDescriptor]:
    fields: list[FieldDescriptor] = []
    current: Descriptor | None = message
    for name in path:
        found = current.fields_by_name.get(name) if current is not None else None
        if found is None:
            owner = current.full_name if current is not None else "?"
            raise RouteError(f"{where}: {owner} has no field {name!r}")
        fields.append(found)
        current = found.message_type
    return fields


def _path_binding(
    template: PathTemplate, variable: Variable, request: Descriptor, where: str
) -> PathBinding:
    fields = _resolve_path(request, variable.field_path, where)
    for outer in fields[:-1]:
        if outer.is_repeated:
            raise RouteError(
                f"{where}: path variable {variable.name!r} goes through a repeated field"
            )
    leaf = fields[-1]
    if leaf.is_repeated or leaf.type == FieldDescriptor.TYPE_MESSAGE:
        raise RouteError(
            f"{where}: path variable {variable.name!r} must name a singular primitive field"
        )
    return PathBinding(variable, tuple(fields), template.variable_is_single_segment(variable))


def _top_level_field(message: Descriptor, name: str, what: str, where: str) -> FieldDescriptor:
    found = message.fields_by_name.get(name)
    if found is None:
        raise RouteError(
            f"{where}: {what} {name!r} is not a top-level field of {message.full_name}"
        )
    return found


def make_route(
    method: MethodDescriptor, http_method: str, path: str, rule: http_pb2.HttpRule
) -> Route:
    where = f"{method.full_name} ({http_method} {path})"
    try:
        template = parse_template(path)
    except TemplateError as error:
        raise RouteError(f"{where}: {error}") from error
    request = method.input_type
    bindings = tuple(_path_binding(template, v, request, where) for v in template.variables)
    body_field = None
    if rule.body and rule.body != "*":
        body_field = _top_level_field(request, rule.body, "body", where)
        if http_method == "GET":
            raise RouteError(f"{where}: a GET binding cannot have a body")
    response_field = None
    if rule.response_body:
        response_field = _top_level_field(
            method.output_type, rule.response_body, "response_body", where
        )
    return Route(
        method=method,
        http_method=http_method,
        template=template,
        body=rule.body,
        response_body=rule.response_body,
        path_bindings=bindings,
        body_field=body_field,
        response_field=response_field,
        request_class=message_factory.GetMessageClass(request),
        response_class=message_factory.GetMessageClass(method.output_type),
    )


def _check_conflicts(routes: list[Route]) -> None:
    seen: dict[tuple[str, tuple[str, ...]], Route] = {}
    for route in routes:
        key = (route.http_method, route.template.shape)
        other = seen.get(key)
        if other is not None:
            raise RouteConflictError(
                f"route conflict: {route.describe()} and {other.describe()} match the same requests"
            )
        seen[key] = route


def build_routes(services: Iterable[ServiceDescriptor]) -> RouteTable:
    """Routes for every annotated method of the given ServiceDescriptors.

    Client-streaming and bidirectional methods have no REST mapping here; they are listed in
    ``RouteTable.skipped`` instead of failing, so a mixed service can still be exposed.
    """
    routes: list[Route] = []
    skipped: list[str] = []
    for service in services:
        for method in service.methods:
            rule = http_rule_of(method)
            if rule is None:
                continue
            if method.client_streaming:
                skipped.append(f"{method.full_name}: client streaming is not supported over REST")
                continue
            routes.extend(make_route(method, verb, path, b) for verb, path, b in bindings_of(rule))
    _check_conflicts(routes)
    return RouteTable(routes, skipped=skipped)
