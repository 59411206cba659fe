"""Server-streaming RPCs as NDJSON and as Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

pytestmark = pytest.mark.integration

Gateway = Callable[..., httpx.AsyncClient]


def _book(index: int) -> dict[str, str]:
    return {"name": f"shelves/s/books/{index}", "title": f"Book {index}"}


async def test_ndjson_by_default(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.get("/v1/shelves/s/books:stream?count=3&failAfter=-1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines == [{"result": _book(i)} for i in range(3)]


async def test_sse_when_accepted(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.get(
            "/v1/shelves/s/books:stream?count=2&failAfter=-1",
            headers={"Accept": "text/event-stream"},
        )
    assert response.headers["content-type"] == "text/event-stream"
    events = [e for e in response.text.split("\n\n") if e]
    assert events == [f"data: {json.dumps(_book(i), separators=(',', ':'))}" for i in range(2)]


async def test_failure_mid_stream_is_a_last_error_frame(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        ndjson = await client.get("/v1/shelves/s/books:stream?count=3&failAfter=1")
        sse = await client.get(
            "/v1/shelves/s/books:stream?count=3&failAfter=1",
            headers={"Accept": "text/event-stream"},
        )
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert lines == [
        {"result": _book(0)},
        {"error": {"code": 9, "message": "stopped after 1", "details": []}},
    ]
    assert sse.text.endswith(
        'event: error\ndata: {"code":9,"message":"stopped after 1","details":[]}\n\n'
    )


async def test_failure_before_first_message_is_an_http_error(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.get("/v1/shelves/s/books:stream?count=3&failAfter=0")
    assert response.status_code == 400
    assert response.json() == {"code": 9, "message": "stopped after 0", "details": []}


async def test_empty_stream(gateway: Gateway) -> None:
    async with gateway("Kitchen") as client:
        response = await client.get("/v1/shelves/s/books:stream?count=0")
    assert response.status_code == 200
    assert response.text == ""
