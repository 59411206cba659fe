"""Test helpers for adapter authors: local provider fakes and the real handshake.

Test adapters against a local fake of the provider's API that speaks its documented wire
format (an ASGI app run by :func:`serve_asgi` on a free loopback port), through the same
handshake the server uses (:func:`launch_adapter`) — not against mocks of your own code::

    async with serve_asgi(fake_provider_app) as base_url:
        async with launch_adapter(["python", "-m", "my_adapter"],
                                  env={"MY_ADAPTER_BASE_URL": base_url}) as adapter:
            reply = await adapter.stub.Send(send_request(...), timeout=5)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from google.protobuf import struct_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.launcher import LaunchOptions, PluginLog, PluginProcess, launch
from linktor.v1 import content_pb2

_START_SECONDS = 10.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(uvicorn.Server):
    """uvicorn without signal handlers: the test owns the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


@contextlib.asynccontextmanager
async def serve_asgi(app: Any, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Run an ASGI app (a provider fake) on a free port of ``host``; yield its base URL."""
    config = uvicorn.Config(
        app, host=host, port=0, log_config=None, access_log=False, lifespan="off", ws="none"
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(_START_SECONDS):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the ASGI server stopped while starting")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, 5.0)
        if not task.done():
            task.cancel()


@contextlib.asynccontextmanager
async def launch_adapter(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    start_timeout: float = 15.0,
    logs: list[PluginLog] | None = None,
) -> AsyncIterator[PluginProcess]:
    """Start an adapter through the real handshake; stop it (gracefully) on exit.

    ``logs``, when given, receives every line the adapter writes.
    """
    options = LaunchOptions(
        start_timeout=start_timeout, env=env, on_log=logs.append if logs is not None else None
    )
    plugin = await launch(command, options)
    try:
        yield plugin
    finally:
        await plugin.stop()


def channel_config(
    channel_type: int,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    *,
    channel: str = "tenants/t_test/channels/ch_test",
    webhook_url: str = "",
) -> adapter_pb2.ChannelConfig:
    """A ChannelConfig from plain values."""
    struct = struct_pb2.Struct()
    struct.update(dict(config or {}))
    return adapter_pb2.ChannelConfig(
        channel=channel,
        type=channel_type,  # type: ignore[arg-type]
        config=struct,
        secrets=dict(secrets or {}),
        webhook_url=webhook_url,
    )


def text_message(body: str) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(text=content_pb2.TextContent(body=body))


def webhook_request(
    body: bytes | Mapping[str, Any] | Sequence[Any],
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    path: str = "/webhooks/ch_test",
    query: str = "",
) -> adapter_pb2.HttpRequest:
    """An HttpRequest as the core would pass it; a dict or list body is sent as JSON."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    items = [adapter_pb2.Header(name=k.lower(), value=v) for k, v in (headers or {}).items()]
    return adapter_pb2.HttpRequest(
        method=method,
        path=path,
        query=query,
        headers=items,
        body=raw,
        remote_address="127.0.0.1",
    )


def go_build(package_dir: Path, output: Path, *, timeout: float = 900) -> Path:
    """Build a Go adapter (``go build -o output .``) for tests and return the binary.

    Go's build and module caches make repeated builds take well under a second; the first
    needs the modules (from the Go proxy). A missing toolchain or a failed build raises
    RuntimeError with the compiler's output.
    """
    go = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if Path(p).exists()), None
    )
    if go is None:
        raise RuntimeError("the Go toolchain is not installed (go not on PATH): install Go 1.24+")
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [go, "build", "-buildvcs=false", "-o", str(output), "."],
        cwd=package_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"go build in {package_dir} failed:\n{result.stderr}")
    return output
