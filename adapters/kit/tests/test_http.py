"""The provider HTTP client: timeouts, connect retries, SSRF guard, size limits."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from linktor.adapterkit.http import (
    DEFAULT_TIMEOUT,
    BlockedAddressError,
    ResponseTooLargeError,
    create_http_client,
    fetch_bytes,
)
from linktor.adapterkit.testing import free_port, serve_asgi

pytestmark = pytest.mark.integration


async def big(request: Request) -> Response:
    return PlainTextResponse("x" * 10_000)


async def echo_host(request: Request) -> Response:
    return PlainTextResponse(request.headers["host"])


APP = Starlette(routes=[Route("/big", big), Route("/host", echo_host)])


async def test_defaults_time_out_every_phase_and_do_not_follow_redirects() -> None:
    async with create_http_client() as client:
        assert client.timeout == DEFAULT_TIMEOUT
        assert client.timeout.read == 15.0
        assert not client.follow_redirects


async def test_talks_to_a_local_fake_and_limits_body_size() -> None:
    async with serve_asgi(APP) as base_url, create_http_client(base_url=base_url) as client:
        assert (await client.get("/big")).status_code == 200
        fetched = await fetch_bytes(client, "/big", max_bytes=20_000)
        assert (fetched.status_code, len(fetched.content)) == (200, 10_000)
        with pytest.raises(ResponseTooLargeError):
            await fetch_bytes(client, "/big", max_bytes=100)


async def test_connection_refused_is_a_transport_error_after_retries() -> None:
    port = free_port()  # nothing listens there
    async with create_http_client(connect_retries=1) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/x",
        "http://localhost:1/x",
        "http://10.0.0.1/x",
        "http://[::1]:1/x",
        "http://[::ffff:127.0.0.1]:1/x",
        "http://169.254.169.254/latest/meta-data",
    ],
)
async def test_the_guard_blocks_non_public_addresses(url: str) -> None:
    async with create_http_client(block_private_addresses=True) as client:
        with pytest.raises(BlockedAddressError):
            await client.get(url)


async def test_the_guard_pins_the_checked_address_and_keeps_the_host_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with create_http_client(
        block_private_addresses=True, transport=httpx.MockTransport(handler)
    ) as client:
        await client.get("http://8.8.8.8/a")
    assert seen[0].url.host == "8.8.8.8"
    assert seen[0].headers["host"] == "8.8.8.8"


async def test_the_guard_resolves_names_once_and_pins_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio
    import socket

    async def fake_getaddrinfo(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        assert host == "provider.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with create_http_client(
        block_private_addresses=True, transport=httpx.MockTransport(handler)
    ) as client:
        await client.get("https://provider.example/media/1")
    assert seen[0].url.host == "93.184.216.34"
    assert seen[0].headers["host"] == "provider.example"
    assert seen[0].extensions["sni_hostname"] == "provider.example"
