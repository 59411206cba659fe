"""Transcoding beyond the http.proto examples: query parameter types, bodies, wildcards,
verbs, nested path fields, response_body, header forwarding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

pytestmark = pytest.mark.integration

Gateway = Callable[..., httpx.AsyncClient]
Echo = Callable[[httpx.Response, type[Message]], Message]

QUERY = (
    "s=hello%20world&i32=-7&i64=9007199254740993&u32=7&u64=18446744073709551615&si32=-3"
    "&f64=5&d=1.5&f=Infinity&b=true&by=aGk_&color=COLOR_RED&tags=a&tags=b&nums=1&nums=2"
    "&colors=2&colors=COLOR_RED&ts=2024-01-02T03:04:05.5Z&dur=1.5s&mask=displayName,inner.a"
    "&boolWrapper=false&int64_wrapper=-1&stringWrapper=&inner.a=x&inner.deeper.z=3"
    "&firstChoice=one&maybe=&times=2024-01-01T00:00:00Z&sf32=-1"
)
EXPECTED_QUERY = {
    "s": "hello world",
    "i32": -7,
    "i64": "9007199254740993",
    "u32": 7,
    "u64": "18446744073709551615",
    "si32": -3,
    "f64": "5",
    "d": 1.5,
    "f": "Infinity",
    "b": True,
    "by": "aGk/",
    "color": "COLOR_RED",
    "tags": ["a", "b"],
    "nums": [1, 2],
    "colors": ["COLOR_GREEN", "COLOR_RED"],
    "ts": "2024-01-02T03:04:05.500Z",
    "dur": "1.500s",
    "mask": "displayName,inner.a",
    "boolWrapper": False,
    "int64Wrapper": "-1",
    "stringWrapper": "",
    "inner": {"a": "x", "deeper": {"z": 3}},
    "firstChoice": "one",
    "maybe": "",
    "times": ["2024-01-01T00:00:00Z"],
    "sf32": -1,
}


async def test_every_query_parameter_type(gateway: Gateway, test_api: Any, echo: Echo) -> None:
    all_types = test_api.message_class("AllTypes")
    async with gateway("Kitchen", emit_unpopulated=False) as client:
        response = await client.get(f"/v1/query?{QUERY}")
    assert response.status_code == 200, response.text
    expected = json_format.ParseDict(EXPECTED_QUERY, all_types())
    assert echo(response, all_types) == expected
    assert response.json() == EXPECTED_QUERY


async def test_body_accepts_both_spellings_and_writes_camel_case(gateway: Gateway) -> None:
    body = {
        "first_choice": "x",
        "int64Wrapper": "5",
        "inner": {"deeper": {"z": 1}},
        "labels": {"k": "v"},
    }
    async with gateway("Kitchen", emit_unpopulated=False) as client:
        response = await client.post("/v1/body", json=body)
    assert response.json() == {
        "firstChoice": "x",
        "int64Wrapper": "5",
        "inner": {"deeper": {"z": 1}},
        "labels": {"k": "v"},
    }


async def test_unpopulated_fields_are_written_by_default(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.post("/v1/body", json={})
    data = response.json()
    assert (
        data["tags"] == []
        and data["s"] == ""
        and data["i64"] == "0"
        and data["color"] == "COLOR_UNSPECIFIED"
    )
    assert "ts" not in data  # message fields have presence: absent when unset


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/v1/shelves/s1/books/b1", "shelves/s1/books/b1"),
        ("/v1/shelves/s1/books/a/b/c", "shelves/s1/books/a/b/c"),
        ("/v1/shelves/s1/books/a%2Fb/c%20d", "shelves/s1/books/a%2Fb/c d"),
    ],
)
async def test_deep_wildcard(gateway: Gateway, url: str, name: str) -> None:
    async with gateway("Kitchen") as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name


async def test_exact_template_beats_deep_wildcard(gateway: Gateway) -> None:
    # "**" may match zero segments, but ListBooks' template ends exactly here and wins.
    async with gateway("Kitchen") as client:
        response = await client.get("/v1/shelves/s1/books")
    assert isinstance(response.json(), list)


async def test_custom_verb_and_plain_path_are_told_apart(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        verb = await client.post("/v1/shelves/s1:publish", json={"note": "v"})
        plain = await client.post("/v1/shelves/s1", json={"note": "p"})
        encoded_colon = await client.post("/v1/shelves/s1%3Apublish", json={})
    assert verb.json()["name"] == "shelves/s1"
    assert verb.headers["grpc-trailer-echo-request-bin"]
    assert plain.json() == {"name": "shelves/s1", "note": "p"}
    # An encoded ":" is data, not a verb separator.
    assert encoded_colon.json()["name"] == "shelves/s1:publish"


async def test_nested_path_field_with_body_field(gateway: Gateway) -> None:
    async with gateway("Kitchen", emit_unpopulated=False) as client:
        response = await client.patch(
            "/v1/shelves/s1/books/b1?updateMask=title,createTime",
            json={"title": "New", "name": "ignored: the path wins"},
        )
    assert response.json() == {
        "book": {"name": "shelves/s1/books/b1", "title": "New"},
        "updateMask": "title,createTime",
    }


async def test_input_only_fields_are_accepted_but_never_returned(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.patch(
            "/v1/shelves/s1/books/b1", json={"title": "New", "secret": "s3cret"}
        )
    assert response.status_code == 200
    assert response.json()["book"] == {"name": "shelves/s1/books/b1", "title": "New"}
    assert "s3cret" not in response.text  # the echo service returned it; the gateway did not


async def test_response_body_field(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.get("/v1/shelves/s1/books?pageSize=5")
    # Book.secret is INPUT_ONLY: never in responses, not even empty.
    assert response.json() == [{"name": "shelves/s1/books/1", "title": "One"}]


async def test_custom_star_method_matches_any_method(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        for method in ("GET", "PUT", "OPTIONS"):
            response = await client.request(method, "/v1/anything/x?note=n")
            assert response.json() == {"name": "x", "note": "n"}, method


async def test_headers_are_forwarded_as_metadata(
    gateway: Gateway, echo_metadata: Callable[[httpx.Response], list[tuple[str, str]]]
) -> None:
    headers = {
        "Authorization": "Bearer abc",
        "X-Request-Id": "req-1",
        "Grpc-Metadata-Tenant": "t1",
        "Grpc-Metadata-Blob-Bin": "AAE=",
        "X-Forwarded-For": "198.51.100.1",
        "Cookie": "secret=1",
        "X-Custom": "extra",
    }
    async with gateway("Kitchen", forwarding=_rules({"x-custom"})) as client:
        response = await client.get("/v1/single/n", headers=headers)
    metadata = dict(echo_metadata(response))
    assert metadata["authorization"] == "Bearer abc"
    assert metadata["x-request-id"] == "req-1"
    assert metadata["tenant"] == "t1"
    assert metadata["blob-bin"] == "AAE="  # the echo writes bytes back as base64
    assert metadata["x-forwarded-for"] == "198.51.100.1, 203.0.113.7"
    assert metadata["x-forwarded-host"] == "gateway.test"
    assert metadata["x-custom"] == "extra"
    assert "cookie" not in metadata
    assert response.headers["grpc-metadata-echo-initial"] == "yes"


def _rules(extra: set[str]) -> Any:
    from linktor.gateway.metadata import ForwardingRules

    return ForwardingRules(frozenset(extra))
