"""Every example of google/api/http.proto's documentation, through the gateway and a real
gRPC hop to the echo service: the request the service receives must be the documented one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Example:
    id: str
    service: str
    method: str
    url: str
    request_type: str
    expected: dict[str, Any]
    body: dict[str, Any] | None = None
    # Unpopulated fields are written out by default (like grpc-gateway with EmitUnpopulated).
    response: dict[str, Any] = field(default_factory=lambda: {"text": ""})


EXAMPLES = [
    # - HTTP: `GET /v1/messages/123456`  - gRPC: `GetMessage(name: "messages/123456")`
    Example(
        "path-name",
        "Example1",
        "GET",
        "/v1/messages/123456",
        "GetMessageRequest1",
        {"name": "messages/123456"},
    ),
    # - HTTP: `GET /v1/messages/123456?revision=2&sub.subfield=foo`
    # - gRPC: `GetMessage(message_id: "123456" revision: 2 sub: SubMessage(subfield: "foo"))`
    Example(
        "query-params",
        "Example2",
        "GET",
        "/v1/messages/123456?revision=2&sub.subfield=foo",
        "GetMessageRequest2",
        {"messageId": "123456", "revision": "2", "sub": {"subfield": "foo"}},
    ),
    # - HTTP: `PATCH /v1/messages/123456 { "text": "Hi!" }`
    # - gRPC: `UpdateMessage(message_id: "123456" message { text: "Hi!" })`
    Example(
        "body-field",
        "Example3",
        "PATCH",
        "/v1/messages/123456",
        "UpdateMessageRequest3",
        {"messageId": "123456", "message": {"text": "Hi!"}},
        body={"text": "Hi!"},
    ),
    # - HTTP: `PATCH /v1/messages/123456 { "text": "Hi!" }`
    # - gRPC: `UpdateMessage(message_id: "123456" text: "Hi!")`
    Example(
        "body-star",
        "Example4",
        "PATCH",
        "/v1/messages/123456",
        "Message4",
        {"messageId": "123456", "text": "Hi!"},
        body={"text": "Hi!"},
        response={"messageId": "123456", "text": "Hi!"},
    ),
    # - HTTP: `GET /v1/messages/123456`  - gRPC: `GetMessage(message_id: "123456")`
    Example(
        "binding",
        "Example5",
        "GET",
        "/v1/messages/123456",
        "GetMessageRequest5",
        {"messageId": "123456"},
    ),
    # - HTTP: `GET /v1/users/me/messages/123456`
    # - gRPC: `GetMessage(user_id: "me" message_id: "123456")`
    Example(
        "additional-binding",
        "Example5",
        "GET",
        "/v1/users/me/messages/123456",
        "GetMessageRequest5",
        {"userId": "me", "messageId": "123456"},
    ),
    # The service-config rule `get: /v1/messages/{message_id}/{sub.subfield}`.
    Example(
        "nested-path-field",
        "Example6",
        "GET",
        "/v1/messages/123456/foo",
        "GetMessageRequest2",
        {"messageId": "123456", "sub": {"subfield": "foo"}},
    ),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
async def test_http_proto_example(
    example: Example,
    gateway: Callable[..., httpx.AsyncClient],
    test_api: Any,
    echo: Callable[[httpx.Response, type[Message]], Message],
) -> None:
    message_class = test_api.message_class(example.request_type)
    async with gateway(example.service) as client:
        response = await client.request(example.method, example.url, json=example.body)
    assert response.status_code == 200, response.text
    expected = json_format.ParseDict(example.expected, message_class())
    assert echo(response, message_class) == expected
    assert response.json() == example.response


async def test_reserved_characters_stay_encoded_in_multi_segment_variable(
    gateway: Callable[..., httpx.AsyncClient],
    test_api: Any,
    echo: Callable[[httpx.Response, type[Message]], Message],
) -> None:
    """`{name=messages/*}` is multi-segment: %2F stays encoded, other escapes are decoded."""
    request_class = test_api.message_class("GetMessageRequest1")
    async with gateway("Example1") as client:
        response = await client.get("/v1/messages/a%2Fb%20c%3F")
    assert echo(response, request_class) == request_class(name="messages/a%2Fb c?")


async def test_single_segment_variable_is_fully_decoded(
    gateway: Callable[..., httpx.AsyncClient],
    test_api: Any,
    echo: Callable[[httpx.Response, type[Message]], Message],
) -> None:
    request_class = test_api.message_class("GetMessageRequest2")
    async with gateway("Example2") as client:
        response = await client.get("/v1/messages/a%2Fb%20c%3Aé")
    assert echo(response, request_class) == request_class(message_id="a/b c:é")
