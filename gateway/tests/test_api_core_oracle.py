"""google-api-core's client-side transcoding as an independent oracle.

For generated request messages, ``google.api_core.path_template.transcode`` builds the
HTTP request a GAPIC REST client would send (path, query parameters flattened the way
``rest_helpers.flatten_query_params`` does, JSON body, and the ``$alt`` system parameter).
Sent through the gateway, it must reach the service as the very same message.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from google.api_core import path_template, rest_helpers
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from linktor.gateway.routes import Route
from linktor.gateway.template import SegmentKind

pytestmark = pytest.mark.integration

CASES_PER_ROUTE = 25
# Characters a path value may hold: unreserved, reserved and non-ASCII (never "/").
SEGMENT_ALPHABET = string.ascii_letters + string.digits + "-_.~ !$&'()*+,;=:@%?#é漢"
_F = FieldDescriptor

ROUTES = [
    ("Example1", "GetMessage", 0),
    ("Example2", "GetMessage", 0),
    ("Example3", "UpdateMessage", 0),
    ("Example4", "UpdateMessage", 0),
    ("Example5", "GetMessage", 0),
    ("Example5", "GetMessage", 1),
    ("Example6", "GetMessage", 0),
    ("Kitchen", "Query", 0),
    ("Kitchen", "Deep", 0),
    ("Kitchen", "Publish", 0),
    ("Kitchen", "UpdateBook", 0),
]
# Fields the generator fills (maps, Structs and repeated messages have no query form).
SKIPPED_FIELDS = {
    "labels",
    "extra",
    "inners",
    "times",
    "secret",
    "create_time",
    "update_mask",
    "mask",
    "dur",
    "ts",
}


def _segment(rng: random.Random) -> str:
    while True:
        text = "".join(rng.choice(SEGMENT_ALPHABET) for _ in range(rng.randint(1, 8)))
        if text not in (".", ".."):
            return text


def _path_value(route: Route, variable_index: int, rng: random.Random) -> str:
    variable = route.template.variables[variable_index]
    parts = []
    for segment in route.template.segments[variable.start : variable.end]:
        if segment.kind is SegmentKind.LITERAL:
            parts.append(segment.literal)
        elif segment.kind is SegmentKind.WILDCARD:
            parts.append(_segment(rng))
        else:
            parts.extend(_segment(rng) for _ in range(rng.randint(1, 3)))
    return "/".join(parts)


def _scalar(field: Any, rng: random.Random) -> Any:
    kind = field.type
    if kind == _F.TYPE_STRING:
        return _segment(rng)
    if kind == _F.TYPE_BOOL:
        return True
    if kind == _F.TYPE_ENUM:
        return rng.choice([v.number for v in field.enum_type.values[1:]])
    if kind in (_F.TYPE_DOUBLE, _F.TYPE_FLOAT):
        return rng.choice([0.5, -2.25, 1e10])
    if kind == _F.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
    if kind in (_F.TYPE_UINT32, _F.TYPE_FIXED32, _F.TYPE_UINT64, _F.TYPE_FIXED64):
        return rng.randint(1, 2**31)
    return rng.randint(-(2**31), 2**31 - 1)


def _fill(message: Message, rng: random.Random, depth: int = 0) -> None:
    for field in message.DESCRIPTOR.fields:
        if field.name in SKIPPED_FIELDS or (
            field.containing_oneof is not None and rng.random() < 0.5
        ):
            continue
        if field.message_type is not None:
            if (
                depth < 2
                and not field.is_repeated
                and field.message_type.full_name.startswith("gatewaytest")
            ):
                _fill(getattr(message, field.name), rng, depth + 1)
            continue
        if field.is_repeated:
            getattr(message, field.name).extend(
                _scalar(field, rng) for _ in range(rng.randint(1, 3))
            )
        elif rng.random() < 0.8:
            setattr(message, field.name, _scalar(field, rng))


def _set_path(message: Message, path: tuple[str, ...], value: str) -> None:
    for name in path[:-1]:
        message = getattr(message, name)
    setattr(message, path[-1], value)


def _http_request(route: Route, request: Message) -> tuple[str, str, bytes | None]:
    options = [{"method": route.http_method.lower(), "uri": route.template.source}]
    if route.body:
        options[0]["body"] = route.body
    transcoded = path_template.transcode(options, message=request)  # type: ignore[no-untyped-call]
    query = json.loads(
        json_format.MessageToJson(transcoded["query_params"], use_integers_for_enums=True)
    )
    pairs = rest_helpers.flatten_query_params(query, strict=True)  # type: ignore[no-untyped-call]
    pairs.append(("$alt", "json;enum-encoding=int"))
    body = None
    if "body" in transcoded:
        value = transcoded["body"]
        body = (
            json_format.MessageToJson(value).encode()
            if isinstance(value, Message)
            else json.dumps(value).encode()
        )
    return transcoded["method"].upper(), f"{transcoded['uri']}?{urlencode(pairs)}", body


@pytest.mark.parametrize(
    ("service", "method", "binding"), ROUTES, ids=[f"{s}.{m}.{b}" for s, m, b in ROUTES]
)
async def test_api_core_requests_route_back_to_the_same_message(
    service: str,
    method: str,
    binding: int,
    test_api: Any,
    gateway: Callable[..., httpx.AsyncClient],
    echo: Callable[[httpx.Response, type[Message]], Message],
) -> None:
    table = test_api.routes(service)
    route = [r for r in table.routes if r.method.name == method][binding]
    rng = random.Random(f"{service}.{method}.{binding}")
    async with gateway(service) as client:
        for _ in range(CASES_PER_ROUTE):
            request = route.request_class()
            if route.body_field is not None and route.body_field.message_type is not None:
                # A body is always sent, so the body field is always present (maybe empty).
                getattr(request, route.body_field.name).SetInParent()
            _fill(request, rng)
            for index, path_binding in enumerate(route.path_bindings):
                _set_path(
                    request,
                    tuple(f.name for f in path_binding.fields),
                    _path_value(route, index, rng),
                )
            http_method, url, body = _http_request(route, request)
            headers = {"content-type": "application/json"} if body else {}
            response = await client.request(http_method, url, content=body, headers=headers)
            assert response.status_code == 200, (url, body, response.text)
            assert echo(response, route.request_class) == request, (url, body)
