"""The standalone ``linktor-gateway`` process, over real HTTP, against the echo service."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "linktor.gateway.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
async def gateway_url(test_api: Any, echo_target: str) -> AsyncIterator[str]:
    port = _free_port()
    args = [
        *CLI,
        "--descriptor-set",
        str(test_api.path),
        "--grpc-target",
        echo_target,
        "--listen",
        f"127.0.0.1:{port}",
        "--service",
        "gatewaytest.v1.Kitchen",
        "--log-level",
        "warning",
    ]
    process = await asyncio.create_subprocess_exec(*args)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    await client.get(f"{url}/openapi.json")
                    break
                except httpx.TransportError:
                    assert process.returncode is None, "linktor-gateway exited"
                    await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


async def test_rest_call_through_the_process(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        response = await client.post("/v1/shelves/s1:publish", json={"note": "hi"})
    assert response.status_code == 200
    assert response.json() == {"name": "shelves/s1", "note": "hi"}


async def test_server_sent_events_stream_over_http(gateway_url: str) -> None:
    events = []
    async with (
        httpx.AsyncClient(base_url=gateway_url) as client,
        client.stream(
            "GET",
            "/v1/shelves/s/books:stream?count=3&failAfter=-1",
            headers={"Accept": "text/event-stream"},
        ) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert [e["title"] for e in events] == ["Book 0", "Book 1", "Book 2"]


async def test_openapi_and_docs_are_served(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        document = (await client.get("/openapi.json")).json()
        page = await client.get("/docs")
        css = await client.get("/docs/static/swagger-ui/swagger-ui.css")
        script = await client.get("/docs/static/docs-init.js")
    assert "/v1/query" in document["paths"]
    assert "swagger-ui-bundle.js" in page.text
    assert css.status_code == 200 and script.status_code == 200


def test_print_routes(test_api: Any) -> None:
    result = subprocess.run(
        [
            *CLI,
            "--descriptor-set",
            str(test_api.path),
            "--grpc-target",
            "127.0.0.1:1",
            "--service",
            "gatewaytest.v1.Example5",
            "--print-routes",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == [
        "GET /v1/messages/{message_id} (gatewaytest.v1.Example5.GetMessage)",
        "GET /v1/users/{user_id}/messages/{message_id} (gatewaytest.v1.Example5.GetMessage)",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--service", "gatewaytest.v1.Nope"],
            "service(s) not in the descriptor set: gatewaytest.v1.Nope",
        ),
        (
            ["--service", "gatewaytest.v1.Example2", "--service", "gatewaytest.v1.Example5"],
            "route conflict",
        ),
    ],
)
def test_start_up_errors_are_clear(test_api: Any, extra: list[str], message: str) -> None:
    args = [*CLI, "--descriptor-set", str(test_api.path), "--grpc-target", "127.0.0.1:1", *extra]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert message in result.stderr


def test_unreadable_descriptor_set(tmp_path: Path) -> None:
    bogus = tmp_path / "x.binpb"
    bogus.write_bytes(b"\xff\xff not a descriptor set")
    result = subprocess.run(
        [*CLI, "--descriptor-set", str(bogus), "--grpc-target", "x:1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "is not a binary FileDescriptorSet" in result.stderr
