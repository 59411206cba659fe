"""Running the platform in one process: gRPC server, HTTP server, workers; graceful stop.

On SIGTERM or SIGINT: health flips to NOT_SERVING, both servers stop accepting and let
in-flight calls finish (bounded by ``shutdown_grace_seconds``), then workers stop and the
pools close. The whole shutdown stays under 10 seconds with the default settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import uvicorn

from linktor.server.api.grpc_server import grpc_server_for, served_api, set_serving
from linktor.server.api.http_app import build_http_app
from linktor.server.api.rest import RestDispatch, build_rest, docs_http_routes
from linktor.server.api.wiring import (
    background,
    grpc_interceptors,
    grpc_registrations,
    http_routes,
)
from linktor.server.bootstrap import Container, build_container
from linktor.server.config import Settings
from linktor.server.infra.db.engine import ping as db_ping
from linktor.server.logs import get_logger
from linktor.server.webchat.limits import WS_MAX_FRAME_BYTES
from linktor.server.workers import BackgroundRunner

log = get_logger(__name__)


class _QuietUvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: the runtime owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Platform:
    """One running Linktor process."""

    settings: Settings
    container: Container | None = None
    grpc_server: grpc.aio.Server | None = None
    health: Any = None
    http_server: uvicorn.Server | None = None
    grpc_port: int = 0
    http_port: int = 0
    background: BackgroundRunner | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        started = time.monotonic()
        self.container = container = await build_container(self.settings)
        # Built once: the gRPC server and REST (/v1) run the same handlers and interceptors.
        api = served_api(grpc_registrations(container), grpc_interceptors(container))
        rest = build_rest(api)  # before listening: a bad HTTP rule stops the start here
        self.grpc_server, self.health = grpc_server_for(api)
        self.grpc_port = self.grpc_server.add_insecure_port(self.settings.grpc_addr)
        if self.grpc_port == 0:
            raise OSError(f"cannot listen on LINKTOR_GRPC_ADDR {self.settings.grpc_addr}")
        await self.grpc_server.start()

        http = build_http_app(
            [
                ("database", lambda: db_ping(container.engine)),
                ("bus", container.bus.ping),
                ("cache", container.cache.ping),
            ],
            [*docs_http_routes(), *http_routes(container)],
        )
        app = RestDispatch(rest, http)
        host, _, port = self.settings.http_addr.rpartition(":")
        config = uvicorn.Config(
            app,
            host=host,
            port=int(port),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(self.settings.shutdown_grace_seconds),
            # WebSockets: the web chat visitor endpoint (linktor.server.webchat). Frames are
            # small JSON; a bigger one is refused by the protocol layer before it is buffered.
            ws="websockets-sansio",
            ws_max_size=WS_MAX_FRAME_BYTES,
            # No permessage-deflate: its zlib state costs ~45 KB per socket (83 -> 38 KB of
            # RSS per visitor socket in bench/webchat) to compress frames of a few hundred bytes.
            ws_per_message_deflate=False,
        )
        self.http_server = _QuietUvicorn(config)
        self._tasks.append(asyncio.create_task(self.http_server.serve(), name="http"))
        while not self.http_server.started:
            if self._tasks[0].done():
                self._tasks[0].result()
                raise OSError(f"cannot listen on LINKTOR_HTTP_ADDR {self.settings.http_addr}")
            await asyncio.sleep(0.01)
        self.http_port = self.http_server.servers[0].sockets[0].getsockname()[1]
        await set_serving(self.health, True)
        self.background = BackgroundRunner(background(container))
        await self.background.start()
        log.info(
            "linktor ready",
            grpc=f"{host}:{self.grpc_port}",
            http=f"{host}:{self.http_port}",
            embedded=self.settings.embedded,
            startup_ms=round((time.monotonic() - started) * 1000),
        )

    def request_stop(self) -> None:
        self._stopping.set()

    async def wait(self) -> None:
        await self._stopping.wait()

    async def stop(self) -> None:
        started = time.monotonic()
        grace = self.settings.shutdown_grace_seconds
        if self.health is not None:
            await set_serving(self.health, False)
        if self.http_server is not None:
            self.http_server.should_exit = True
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace)
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
        if self.background is not None:
            await self.background.stop()
        if self.container is not None:
            await self.container.close()
        log.info("linktor stopped", shutdown_ms=round((time.monotonic() - started) * 1000))


async def serve(settings: Settings, *, on_ready: object = None) -> None:
    """Start the platform, run until SIGTERM/SIGINT, stop gracefully."""
    platform = Platform(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, platform.request_stop)
    try:
        await platform.start()
        if callable(on_ready):
            on_ready(platform)
        await platform.wait()
    finally:
        await platform.stop()
