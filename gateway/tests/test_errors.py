"""Errors: gRPC status -> HTTP status and google.rpc.Status body; bad requests named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]

from linktor.gateway.app import TranscodingApp
from linktor.gateway.invoker import ChannelInvoker
from linktor.gateway.status import HTTP_STATUS_BY_CODE, RpcFailure

pytestmark = pytest.mark.integration

Gateway = Callable[..., httpx.AsyncClient]


@pytest.mark.parametrize(("code", "http_status"), sorted(HTTP_STATUS_BY_CODE.items())[1:])
async def test_status_codes_map_to_http(gateway: Gateway, code: int, http_status: int) -> None:
    async with gateway("Kitchen") as client:
        response = await client.post("/v1/fail", json={"code": code, "message": "boom"})
    assert response.status_code == http_status
    assert response.json() == {"code": code, "message": "boom", "details": []}


async def test_status_details_come_from_grpc_status_details_bin(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.post(
            "/v1/fail", json={"code": 9, "message": "window closed", "withDetails": True}
        )
    assert response.status_code == 400
    assert response.json() == {
        "code": 9,
        "message": "window closed",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "TEST_REASON",
                "domain": "test.local",
                "metadata": {"k": "v"},
            },
            # Only the service's descriptor set knows this type: rendered through its pool.
            {"@type": "type.googleapis.com/gatewaytest.v1.CustomDetail", "hint": "try again"},
        ],
    }


def _violation(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    assert body["code"] == 3, body
    violations = (
        body["details"][0]["fieldViolations"]
        if body["details"]
        else [{"field": "", "description": ""}]
    )
    return violations[0]["field"], body["message"]


@pytest.mark.parametrize(
    ("method", "url", "body", "field", "words"),
    [
        ("GET", "/v1/query?nope=1", None, "nope", "has no field 'nope'"),
        ("GET", "/v1/query?i32=abc", None, "i32", "'abc' is not an integer"),
        ("GET", "/v1/query?i32=99999999999", None, "i32", "out of range"),
        ("GET", "/v1/query?b=yes", None, "b", "not a boolean"),
        ("GET", "/v1/query?color=PURPLE", None, "color", "is not a value of gatewaytest.v1.Color"),
        ("GET", "/v1/query?ts=yesterday", None, "ts", "not a valid google.protobuf.Timestamp"),
        ("GET", "/v1/query?s=a&s=b", None, "s", "given more than once"),
        ("GET", "/v1/query?firstChoice=a&secondChoice=b", None, "secondChoice", "oneof 'choice'"),
        ("GET", "/v1/query?inner=x", None, "inner", "is a message"),
        ("GET", "/v1/query?labels=x", None, "labels", "map fields"),
        ("GET", "/v1/query?inners.a=x", None, "inners.a", "has no subfields"),
        ("GET", "/v1/single/n?name=other", None, "name", "already bound by the URL path"),
        ("POST", "/v1/body?s=x", {}, "s", "every field goes in the body"),
        (
            "PATCH",
            "/v1/shelves/s/books/b?book.title=x",
            {},
            "book.title",
            "part of the request body",
        ),
    ],
)
async def test_bad_query_parameters_name_the_field(
    gateway: Gateway, method: str, url: str, body: Any, field: str, words: str
) -> None:
    async with gateway("Kitchen") as client:
        response = await client.request(method, url, json=body)
    assert response.status_code == 400, response.text
    named, message = _violation(response)
    assert named == field
    assert words in message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"i32": "abc"}', "i32"),
        (b'{"nope": 1}', "nope"),
        (b'{"tags": "not-a-list"}', "tags"),
        (b"[1, 2]", "must be a JSON object"),
    ],
)
async def test_bad_json_bodies_name_the_problem(
    gateway: Gateway, content: bytes, words: str
) -> None:
    async with gateway("Kitchen") as client:
        response = await client.post(
            "/v1/body", content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert words in response.json()["message"]


async def test_unknown_route_is_404_and_wrong_method_is_405(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        missing = await client.get("/v2/nothing")
        wrong = await client.delete("/v1/body")
    assert missing.status_code == 404
    assert missing.json()["code"] == 5
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"


async def test_content_type_size_and_body_on_bodiless_route(gateway: Gateway) -> None:
    async with gateway("Kitchen", max_body_bytes=64) as client:
        form = await client.post(
            "/v1/body",
            content=b"a=b",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        large = await client.post("/v1/body", json={"s": "x" * 100})
        bodiless = await client.request("GET", "/v1/query", content=b'{"s": 1}')
    assert form.status_code == 415
    assert large.status_code == 413
    assert bodiless.status_code == 400
    assert "takes no request body" in bodiless.json()["message"]


async def test_deadline_from_grpc_timeout_header(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        late = await client.post(
            "/v1/fail", json={"sleepMs": 2000}, headers={"Grpc-Timeout": "50m"}
        )
        bad = await client.post("/v1/fail", json={}, headers={"Grpc-Timeout": "soon"})
    assert late.status_code == 504
    assert late.json()["code"] == 4
    assert bad.status_code == 400


async def test_unreachable_target_is_503(test_api: Any) -> None:
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:
        app = TranscodingApp(
            test_api.routes("Kitchen"), ChannelInvoker(channel), pool=test_api.pool
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.get("/v1/single/x", headers={"Grpc-Timeout": "2S"})
    assert response.status_code == 503
    assert response.json()["code"] == 14


class _RateLimited:
    """An invoker whose every call fails with RESOURCE_EXHAUSTED and a RetryInfo detail."""

    def __init__(self, seconds: int, nanos: int) -> None:
        self.status = status_pb2.Status(code=8, message="slow down")
        info = error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=seconds, nanos=nanos)
        )
        self.status.details.add().Pack(info)

    async def unary(self, method: Any, request: Any, call: Any) -> Any:
        raise RpcFailure(self.status)

    def server_stream(self, method: Any, request: Any, call: Any) -> Any:
        raise RpcFailure(self.status)


@pytest.mark.parametrize(("seconds", "nanos", "header"), [(2, 0, "2"), (1, 1, "2"), (0, 0, "0")])
async def test_retry_info_becomes_retry_after(
    test_api: Any, seconds: int, nanos: int, header: str
) -> None:
    app = TranscodingApp(
        test_api.routes("Kitchen"), _RateLimited(seconds, nanos), pool=test_api.pool
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        response = await client.post("/v1/fail", json={})
    assert response.status_code == 429
    assert response.headers["retry-after"] == header
    assert response.json()["details"][0]["@type"] == "type.googleapis.com/google.rpc.RetryInfo"


async def test_error_headers_hook_replaces_the_default(test_api: Any) -> None:
    app = TranscodingApp(
        test_api.routes("Kitchen"),
        _RateLimited(1, 0),
        pool=test_api.pool,
        error_headers=lambda status: [(b"x-code", str(status.code).encode())],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        response = await client.post("/v1/fail", json={})
    assert response.headers["x-code"] == "8"
    assert "retry-after" not in response.headers
