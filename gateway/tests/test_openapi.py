"""The OpenAPI 3.1 document: valid, complete, and faithful to the routes and descriptors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.compiler import plugin_pb2
from openapi_spec_validator import validate

from linktor.gateway.openapi import OpenApiOptions, build_openapi
from linktor.gateway.openapi.plugin import generate, parse_parameters

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
LINKTOR_DOCUMENT = REPO / "gen" / "openapi" / "linktor.openapi.json"


@pytest.fixture(scope="module")
def document(test_api: Any) -> dict[str, Any]:
    services = test_api.all_services()
    routes = [r for s in services if s.startswith("Kitchen") for r in test_api.routes(s).routes]
    options = OpenApiOptions(
        title="Test", public_methods=frozenset({"gatewaytest.v1.Kitchen.Query"})
    )
    return build_openapi(routes, list(test_api.fds.file), test_api.pool, options)


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_paths_spell_out_multi_segment_variables(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "/v1/shelves/{shelf}:publish" in paths
    # UpdateBook's `{book.name=shelves/*/books/*}` and Deep's `{name=shelves/*/books/**}`.
    assert set(paths["/v1/shelves/{shelf}/books/{book}"]) == {"patch", "get"}
    params = paths["/v1/single/{name}"]["get"]["parameters"]
    assert params[0] == {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    # custom: {kind: "*"} is every method.
    assert set(paths["/v1/anything/{name}"]) == {"get", "put", "post", "delete", "patch"}


def test_query_parameters_are_leaf_fields_in_camel_case(document: dict[str, Any]) -> None:
    params = {p["name"]: p for p in document["paths"]["/v1/query"]["get"]["parameters"]}
    assert {"i64", "boolWrapper", "inner.a", "inner.deeper.z", "tags", "ts", "mask"} <= set(params)
    assert "labels" not in params and "inners" not in params and "extra" not in params
    assert params["tags"]["explode"] is True
    assert params["i64"]["schema"] == {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
    assert params["ts"]["schema"] == {"type": "string", "format": "date-time"}


def test_schemas_carry_comments_and_field_behavior(document: dict[str, Any]) -> None:
    book = document["components"]["schemas"]["gatewaytest.v1.Book"]
    assert book["description"] == "A book on a shelf."
    assert book["required"] == ["title"]
    assert book["properties"]["createTime"]["readOnly"] is True
    assert book["properties"]["secret"]["writeOnly"] is True
    assert book["properties"]["title"]["description"] == "Title, required on create."
    color = document["components"]["schemas"]["gatewaytest.v1.Color"]
    assert color["enum"] == ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN"]
    # Every message and enum of the package has a schema, used or not.
    assert "gatewaytest.v1.CustomDetail" in document["components"]["schemas"]


def test_security_errors_and_pagination(document: dict[str, Any]) -> None:
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "apiKey"}
    assert document["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert document["paths"]["/v1/query"]["get"]["security"] == []
    list_books = document["paths"]["/v1/shelves/{shelf}/books"]["get"]
    assert list_books["x-pagination"]["items"] == "books"
    error = list_books["responses"]["default"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/google.rpc.Status"}
    stream = document["paths"]["/v1/shelves/{shelf}/books:stream"]["get"]["responses"]["200"][
        "content"
    ]
    assert set(stream) == {"application/x-ndjson", "text/event-stream"}


def test_body_star_schema_leaves_out_path_fields(document: dict[str, Any]) -> None:
    publish = document["paths"]["/v1/shelves/{shelf}:publish"]["post"]
    schema = publish["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {"note"}


def test_protoc_plugin_writes_one_document(test_api: Any) -> None:
    request = plugin_pb2.CodeGeneratorRequest(
        parameter="output=test.openapi.json,title=T,public=gatewaytest.v1.Kitchen.Query",
        file_to_generate=["gatewaytest/v1/kitchen.proto"],
        proto_file=list(test_api.fds.file),
    )
    response = generate(request)
    assert not response.error
    assert [f.name for f in response.file] == ["test.openapi.json"]
    validate(json.loads(response.file[0].content))


@pytest.mark.parametrize(
    ("parameter", "error"),
    [
        ("output=x.yaml", "must end in .json"),
        ("colour=red", "unknown parameter"),
        ("title", "not key=value"),
    ],
)
def test_plugin_parameters_are_checked(parameter: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_parameters(parameter)


def test_plugin_reports_unknown_public_method(test_api: Any) -> None:
    request = plugin_pb2.CodeGeneratorRequest(
        parameter="public=nope.Service.Method",
        file_to_generate=["gatewaytest/v1/kitchen.proto"],
        proto_file=list(test_api.fds.file),
    )
    assert "nope.Service.Method" in generate(request).error


@pytest.mark.skipif(not LINKTOR_DOCUMENT.exists(), reason="gen/openapi not generated")
def test_committed_linktor_document_is_valid() -> None:
    document = json.loads(LINKTOR_DOCUMENT.read_text())
    validate(document)
    assert document["paths"]["/v1/auth:login"]["post"]["security"] == []
