"""The port through which the core reaches channel adapters.

Contexts that talk to adapters (channels: validate config, capabilities; messaging: send,
mark read, typing; inbound: handle webhooks, download media) depend on this Protocol only.
The plugin host implements it for built-in adapters (child processes, go-plugin handshake)
and remote ones (by address); tests use an in-memory fake or the fake adapter process.
"""

from __future__ import annotations

from typing import Protocol

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc


class AdapterHandle(Protocol):
    """A connected, healthy adapter."""

    @property
    def stub(self) -> adapter_pb2_grpc.ChannelAdapterAsyncStub:
        """The gRPC stub (grpc.aio) of the adapter. A gRPC error from a call means the
        adapter process failed (crashed, timed out): callers treat it as retryable."""
        ...

    @property
    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        """What the adapter declared at connection time."""
        ...


class AdapterProvider(Protocol):
    """Finds (and for built-in adapters, starts) the adapter serving a channel."""

    async def acquire(self, channel_type: int, *, address: str = "") -> AdapterHandle:
        """The adapter for a linktor.v1.ChannelType value, or the remote one at ``address``.

        Built-in adapters are launched lazily on first use. While an adapter is restarting
        after a crash this waits (bounded) for it to come back; raises
        shared.errors.Unavailable when it cannot, so messages wait instead of failing.
        """
        ...

    async def close(self) -> None:
        """Stop every adapter this provider launched (graceful, then forced)."""
        ...
