"""``protoc-gen-linktor-openapi``: a protoc / buf plugin writing one OpenAPI 3.1 document.

Parameters (comma separated ``key=value``; in buf.gen.yaml, one ``opt`` entry each):

- ``output=NAME`` file name, ending in ``.json`` (default ``openapi.json``)
- ``title=...``, ``version=...``, ``description=...``, ``server=URL`` (repeatable)
- ``public=pkg.Service.Method`` (repeatable): methods that need no credentials

Run it with ``strategy: all`` so that it sees every file at once and writes one document.
An invocation whose files have no google.api.http rules writes nothing.
"""

from __future__ import annotations

import json
import sys

from google.protobuf.compiler import plugin_pb2

from linktor.gateway.descriptors import pool_from_files
from linktor.gateway.openapi.document import OpenApiOptions, build_openapi
from linktor.gateway.routes import RouteError, build_routes


class ParameterError(ValueError):
    pass


def parse_parameters(text: str) -> tuple[str, OpenApiOptions]:
    output = "openapi.json"
    values: dict[str, str] = {}
    servers: list[str] = []
    public: set[str] = set()
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ParameterError(f"parameter {item!r} is not key=value")
        if key == "output":
            output = value
        elif key == "server":
            servers.append(value)
        elif key == "public":
            public.add(value)
        elif key in ("title", "version", "description"):
            values[key] = value
        else:
            raise ParameterError(f"unknown parameter {key!r}")
    if not output.endswith(".json"):
        raise ParameterError(f"output {output!r} must end in .json")
    options = OpenApiOptions(servers=tuple(servers), public_methods=frozenset(public), **values)
    return output, options


def render(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    try:
        output, options = parse_parameters(request.parameter)
        pool = pool_from_files(request.proto_file)
        wanted = set(request.file_to_generate)
        files = [f for f in request.proto_file if f.name in wanted]
        services = [
            pool.FindServiceByName(f"{f.package}.{s.name}" if f.package else s.name)
            for f in files
            for s in f.service
        ]
        table = build_routes(services)
        if not table.routes:
            # buf runs the plugin once per input; an input without HTTP rules (for example
            # vendored third-party services) must not overwrite the document with nothing.
            return response
        public_unknown = options.public_methods - {r.method.full_name for r in table.routes}
        if public_unknown:
            raise ParameterError(
                f"public method(s) without routes: {', '.join(sorted(public_unknown))}"
            )
        document = build_openapi(table.routes, files, pool, options)
    except (ParameterError, RouteError) as error:
        response.error = str(error)
        return response
    response.file.add(name=output, content=render(document))
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())
