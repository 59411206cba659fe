"""Adapters the host does not launch: reached by address, optionally over TLS.

Address forms: ``host:port`` and ``unix:/path`` (plaintext), ``tls://host:port`` (TLS with the
configured CA, or the system roots; with a client certificate when one is configured).
A remote adapter is served by ``linktor.adapterkit.serve`` with LINKTOR_ADAPTER_LISTEN, or by
any gRPC server implementing ChannelAdapter and grpc.health.v1.

The connection is checked at first use (ready, health ``plugin`` or overall SERVING,
GetCapabilities) and then every ``health_interval``; while it fails the adapter is
UNREACHABLE and acquire() raises Unavailable. gRPC reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.adapterkit import protocol
from linktor.adapterkit.launcher import MAX_MESSAGE_BYTES, check_health
from linktor.server.logs import get_logger
from linktor.server.plugins.handle import ConnectedAdapter
from linktor.server.plugins.registry import channel_type_name
from linktor.server.plugins.state import AdapterState, AdapterStatus
from linktor.server.plugins.supervisor import SupervisionOptions
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, Unavailable

log = get_logger(__name__)

TLS_SCHEME = "tls://"


@dataclass(frozen=True)
class RemoteTls:
    """Files for TLS to remote adapters (all optional: no CA = the system roots)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        def read(path: Path | None) -> bytes | None:
            return path.read_bytes() if path else None

        return grpc.ssl_channel_credentials(
            root_certificates=read(self.ca_file),
            private_key=read(self.key_file),
            certificate_chain=read(self.cert_file),
        )


def open_channel(address: str, tls: RemoteTls) -> grpc.aio.Channel:
    """A channel to ``address`` (see the module docstring for the forms)."""
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # gRPC's default reconnect backoff grows past 2 minutes; an adapter that comes back
        # should be used again within seconds.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ]
    if address.startswith(TLS_SCHEME):
        target = address.removeprefix(TLS_SCHEME)
        if not target:
            raise InvalidArgument.for_field("adapter_address", "tls:// needs host:port")
        return grpc.aio.secure_channel(target, tls.credentials(), options=options)
    if not address.strip() or "://" in address:
        raise InvalidArgument.for_field(
            "adapter_address", f"expected host:port, unix:/path or tls://host:port, got {address!r}"
        )
    return grpc.aio.insecure_channel(address, options=options)


class RemoteAdapter:
    """One remote address."""

    def __init__(
        self,
        address: str,
        tls: RemoteTls,
        options: SupervisionOptions,
        notify: Callable[[AdapterStatus], None],
    ) -> None:
        self.address = address
        self.options = options
        self._notify = notify
        self._channel = open_channel(address, tls)
        self._handle: ConnectedAdapter | None = None
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self.status = AdapterStatus(address, 0, address, AdapterState.STARTING)

    async def acquire(self, channel_type: int, wait: float) -> ConnectedAdapter:
        handle = self._handle or await self._connect(wait)
        if handle.capabilities.channel_type != channel_type:
            served = channel_type_name(handle.capabilities.channel_type)
            wanted = channel_type_name(channel_type)
            raise FailedPrecondition(
                f"the adapter at {self.address} serves {served}, not {wanted}",
                reason="CHANNEL_UNAVAILABLE",
            )
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(), name=f"adapter-{self.address}")
        return handle

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self._channel.close(None)
        self._set(AdapterState.STOPPED, "the plugin host stopped")

    async def _connect(self, wait: float) -> ConnectedAdapter:
        async with self._lock:
            if self._handle is not None:
                return self._handle
            try:
                handle = await asyncio.wait_for(self._check(), wait)
            except (TimeoutError, grpc.aio.AioRpcError, _Unhealthy) as exc:
                reason = _describe(exc)
                self._set(AdapterState.UNREACHABLE, reason)
                raise Unavailable(
                    f"the adapter at {self.address} is unreachable ({reason}); try again later",
                    metadata={"adapter": self.address},
                ) from None
            self._handle = handle
            self._set(AdapterState.READY, "", channel_type=int(handle.capabilities.channel_type))
            log.info(
                "remote adapter ready",
                address=self.address,
                name=handle.capabilities.adapter_name,
                channel_type=channel_type_name(handle.capabilities.channel_type),
            )
            return handle

    async def _check(self) -> ConnectedAdapter:
        await self._channel.channel_ready()
        problem = await self._health_problem()
        if problem:
            raise _Unhealthy(problem)
        stub = adapter_pb2_grpc.ChannelAdapterStub(self._channel)
        capabilities = await stub.GetCapabilities(
            adapter_pb2.GetCapabilitiesRequest(), timeout=self.options.capabilities_timeout
        )
        return ConnectedAdapter(stub, capabilities)

    async def _health_problem(self) -> str:
        timeout = self.options.health_timeout
        try:
            status = await check_health(self._channel, protocol.HEALTH_SERVICE, timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            # Not a go-plugin style server: its overall health stands for the adapter.
            status = await check_health(self._channel, "", timeout)
        if status != health_pb2.HealthCheckResponse.SERVING:
            return f"health is {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}"
        return ""

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.options.health_interval)
            try:
                problem = await self._health_problem()
            except grpc.aio.AioRpcError as exc:
                problem = _describe(exc)
            if problem and self._handle is not None:
                log.warning("remote adapter unhealthy", address=self.address, problem=problem)
                self._handle = None
                self._set(AdapterState.UNREACHABLE, problem)
            elif not problem and self._handle is None:
                with contextlib.suppress(Unavailable):
                    await self._connect(self.options.health_timeout)

    def _set(self, state: AdapterState, reason: str, *, channel_type: int | None = None) -> None:
        changed = (state, reason) != (self.status.state, self.status.reason)
        kind = self.status.channel_type if channel_type is None else channel_type
        self.status = replace(self.status, state=state, reason=reason, channel_type=kind)
        if changed:
            self._notify(self.status)


class _Unhealthy(Exception):
    pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc)
