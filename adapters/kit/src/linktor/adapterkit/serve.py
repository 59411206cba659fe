"""The plugin side of the handshake: serve a ChannelAdapter the way a Linktor host expects.

``serve(adapter)`` is what an adapter's ``__main__`` calls. Launched by a host (the magic
cookie is in the environment) it listens on 127.0.0.1 (a free port, or one in
PLUGIN_MIN_PORT..PLUGIN_MAX_PORT), prints the handshake line, and serves the adapter next to
grpc.health.v1 (service ``plugin`` SERVING) and go-plugin's ``GRPCController.Shutdown``.

With ``LINKTOR_ADAPTER_LISTEN=HOST:PORT`` it runs as a *remote* adapter instead: no cookie,
no handshake line, listening where told, with optional TLS (see :class:`RemoteListen`).

It stops on ``Shutdown``, SIGTERM, or when the host process disappears: health turns
NOT_SERVING, in-flight calls get ``grace_seconds`` to finish, then ``adapter.aclose()`` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from hashicorp.goplugin import grpc_controller_pb2, grpc_controller_pb2_grpc

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.adapterkit import protocol
from linktor.adapterkit.logs import configure_plugin_logging

log = logging.getLogger("linktor.adapterkit.serve")

ENV_LISTEN = "LINKTOR_ADAPTER_LISTEN"
ENV_TLS_CERT = "LINKTOR_ADAPTER_TLS_CERT"
ENV_TLS_KEY = "LINKTOR_ADAPTER_TLS_KEY"
ENV_TLS_CLIENT_CA = "LINKTOR_ADAPTER_TLS_CLIENT_CA"

ADAPTER_SERVICE = adapter_pb2.DESCRIPTOR.services_by_name["ChannelAdapter"].full_name
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
_PARENT_POLL_SECONDS = 1.0
_BIND_ATTEMPTS = 64

_NOT_A_PROGRAM = """\
This program is a Linktor channel adapter: a plugin that the Linktor server starts itself
(it speaks HashiCorp go-plugin's gRPC handshake on stdout). It is not meant to be run by hand.

  - To check it against the adapter contract:
      linktor adapter-conformance -- {command}
      (or, without the server: python -m linktor.adapterkit.conformance -- {command})
  - To run it as a remote adapter the server reaches by address:
      {listen}=127.0.0.1:7000 {command}
  - To speak the handshake yourself (debugging), set {key}={value}.
"""


@dataclass(frozen=True)
class RemoteListen:
    """Where and how a remote adapter listens (from LINKTOR_ADAPTER_LISTEN and TLS_* files).

    With a certificate and key the port is TLS; with a client CA too, clients must present
    a certificate it signed (mutual TLS).
    """

    address: str
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RemoteListen | None:
        address = env.get(ENV_LISTEN, "").strip()
        if not address:
            return None
        paths = {k: Path(env[k]) if env.get(k) else None for k in (ENV_TLS_CERT, ENV_TLS_KEY)}
        if (paths[ENV_TLS_CERT] is None) != (paths[ENV_TLS_KEY] is None):
            raise SystemExit(f"set both {ENV_TLS_CERT} and {ENV_TLS_KEY}, or neither")
        client_ca = Path(env[ENV_TLS_CLIENT_CA]) if env.get(ENV_TLS_CLIENT_CA) else None
        if client_ca and paths[ENV_TLS_CERT] is None:
            raise SystemExit(f"{ENV_TLS_CLIENT_CA} needs {ENV_TLS_CERT} and {ENV_TLS_KEY}")
        return cls(address, paths[ENV_TLS_CERT], paths[ENV_TLS_KEY], client_ca)

    def credentials(self) -> grpc.ServerCredentials | None:
        if self.tls_cert is None or self.tls_key is None:
            return None
        root = self.tls_client_ca.read_bytes() if self.tls_client_ca else None
        return grpc.ssl_server_credentials(
            [(self.tls_key.read_bytes(), self.tls_cert.read_bytes())],
            root_certificates=root,
            require_client_auth=root is not None,
        )


class _Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    """go-plugin's GRPCController: the host's graceful way to stop the plugin."""

    def __init__(self, on_shutdown: Callable[[], None]) -> None:
        self._on_shutdown = on_shutdown

    async def Shutdown(  # noqa: N802 - gRPC method name
        self, request: grpc_controller_pb2.Empty, context: grpc.aio.ServicerContext[Any, Any]
    ) -> grpc_controller_pb2.Empty:
        log.info("shutdown requested by the host")
        self._on_shutdown()
        return grpc_controller_pb2.Empty()


class PluginServer:
    """A gRPC server carrying one adapter plus the go-plugin services.

    Usable directly in tests (``start`` / ``stop``); ``serve`` wraps it for processes.
    """

    def __init__(
        self,
        adapter: adapter_pb2_grpc.ChannelAdapterServicer,
        *,
        grace_seconds: float = 5.0,
        register: Callable[[grpc.aio.Server], None] | None = None,
    ) -> None:
        self.adapter = adapter
        self.grace_seconds = grace_seconds
        self.stop_requested = asyncio.Event()
        self.health = health_aio.HealthServicer()
        # so_reuseport=0: a port already taken must fail to bind, not be shared silently.
        self.server = grpc.aio.server(
            options=[
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ]
        )
        adapter_pb2_grpc.add_ChannelAdapterServicer_to_server(adapter, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(
            _Controller(self.stop_requested.set), self.server
        )
        if register is not None:
            register(self.server)

    def bind_loopback(self, env: Mapping[str, str]) -> str:
        """Listen on 127.0.0.1 within the host's port range; return HOST:PORT."""
        low, high = protocol.port_range_from_env(env)
        if low == 0 and high == 0:
            return f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        ports = list(range(max(low, 1), high + 1))
        # Start at a random place so sibling plugins do not all race for the lowest port.
        start = random.randrange(len(ports))  # noqa: S311 - not security sensitive
        for port in (ports[start:] + ports[:start])[:_BIND_ATTEMPTS]:
            with contextlib.suppress(RuntimeError):
                if self.server.add_insecure_port(f"127.0.0.1:{port}"):
                    return f"127.0.0.1:{port}"
        raise OSError(f"no free port in {protocol.ENV_MIN_PORT}..{protocol.ENV_MAX_PORT}")

    def bind_remote(self, listen: RemoteListen) -> int:
        credentials = listen.credentials()
        if credentials is None:
            port = self.server.add_insecure_port(listen.address)
        else:
            port = self.server.add_secure_port(listen.address, credentials)
        if not port:
            raise OSError(f"cannot listen on {ENV_LISTEN}={listen.address}")
        return port

    async def start(self) -> None:
        await self.server.start()
        for service in ("", protocol.HEALTH_SERVICE, ADAPTER_SERVICE):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self) -> None:
        """NOT_SERVING, let in-flight calls finish (bounded), then close the adapter."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.grace_seconds)
        aclose = getattr(self.adapter, "aclose", None)
        if callable(aclose):
            try:
                await asyncio.wait_for(aclose(), self.grace_seconds)
            except Exception:
                log.exception("adapter aclose failed")


async def serve_async(
    adapter: adapter_pb2_grpc.ChannelAdapterServicer,
    *,
    grace_seconds: float = 5.0,
    register: Callable[[grpc.aio.Server], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Serve until Shutdown, SIGTERM, or the host going away (see the module docstring)."""
    environ = os.environ if env is None else env
    parent = os.getppid()
    remote = RemoteListen.from_env(environ)
    plugin = PluginServer(adapter, grace_seconds=grace_seconds, register=register)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, plugin.stop_requested.set)
    if remote is not None:
        port = plugin.bind_remote(remote)
        await plugin.start()
        loop.add_signal_handler(signal.SIGINT, plugin.stop_requested.set)
        log.info("remote adapter listening", extra={"address": remote.address, "port": port})
    else:
        version = protocol.negotiate_app_version(environ.get(protocol.ENV_PROTOCOL_VERSIONS))
        address = plugin.bind_loopback(environ)
        await plugin.start()
        interactive = sys.stdout.isatty()
        line = protocol.HandshakeLine(protocol.CORE_PROTOCOL_VERSION, version, "tcp", address)
        print(line.format(), flush=True)
        # stdout carries exactly one line; anything printed later goes to stderr (logged
        # by the host) so it can neither corrupt the handshake nor fill an unread pipe.
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        if interactive:
            loop.add_signal_handler(signal.SIGINT, plugin.stop_requested.set)
        else:
            # Like go-plugin: a Ctrl-C in the host's terminal reaches the whole process
            # group; the host decides when its plugins stop (through Shutdown).
            loop.add_signal_handler(signal.SIGINT, lambda: None)
        watcher = asyncio.create_task(_watch_parent(parent, environ, plugin.stop_requested))
        log.debug("plugin serving", extra={"address": address, "app_version": version})
    try:
        await plugin.stop_requested.wait()
    finally:
        if remote is None:
            watcher.cancel()
        await plugin.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _watch_parent(parent: int, env: Mapping[str, str], stop: asyncio.Event) -> None:
    """Stop when the host dies: an orphaned adapter would hold its port forever.

    Either our parent changes (we were orphaned), or the host named in
    LINKTOR_ADAPTER_HOST_PID is gone (it died before we started watching, or we run under a
    wrapper process that outlived it).
    """
    given = env.get(protocol.ENV_HOST_PID, "")
    host = int(given) if given.isdigit() else None
    while not stop.is_set():
        if os.getppid() != parent or (host is not None and not _alive(host)):
            log.warning("the host process went away; stopping")
            stop.set()
            return
        await asyncio.sleep(_PARENT_POLL_SECONDS)


def serve(
    adapter: adapter_pb2_grpc.ChannelAdapterServicer,
    *,
    grace_seconds: float = 5.0,
    register: Callable[[grpc.aio.Server], None] | None = None,
) -> None:
    """Run an adapter process: the entry point of ``python -m your.adapter``.

    Exits with status 1 and an explanation when started by hand without the magic cookie.
    """
    if os.environ.get(
        protocol.MAGIC_COOKIE_KEY
    ) != protocol.MAGIC_COOKIE_VALUE and not os.environ.get(ENV_LISTEN):
        sys.stderr.write(
            _NOT_A_PROGRAM.format(
                command=_own_command(),
                listen=ENV_LISTEN,
                key=protocol.MAGIC_COOKIE_KEY,
                value=protocol.MAGIC_COOKIE_VALUE,
            )
        )
        raise SystemExit(1)
    configure_plugin_logging()
    asyncio.run(serve_async(adapter, grace_seconds=grace_seconds, register=register))


def _own_command() -> str:
    """How this process was started, as a person would type it (for the help text)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name:
        module = spec.name.removesuffix(".__main__")
        return " ".join(["python", "-m", module, *sys.argv[1:]])
    if sys.argv and sys.argv[0].endswith(".py"):
        return " ".join(["python", *sys.argv])
    return " ".join(sys.argv) or "ADAPTER"
