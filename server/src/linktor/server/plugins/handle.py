"""The AdapterHandle the host gives out: one connected incarnation of an adapter."""

from __future__ import annotations

from dataclasses import dataclass

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc


@dataclass(frozen=True)
class ConnectedAdapter:
    """A healthy adapter as of acquire(). Do not keep it: acquire() per operation, so a
    restarted adapter is picked up (acquire is a dictionary lookup while READY)."""

    stub: adapter_pb2_grpc.ChannelAdapterAsyncStub
    capabilities: adapter_pb2.GetCapabilitiesResponse
    #: The process id of a launched adapter; None for a remote one.
    pid: int | None = None
