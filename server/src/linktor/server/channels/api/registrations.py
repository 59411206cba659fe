"""The channels context's servicers, as (add_to_server, servicer) pairs for the wiring."""

from __future__ import annotations

from linktor.server.api.grpc_server import Registration
from linktor.server.channels.api.servicer import ChannelServicer
from linktor.server.channels.module import ChannelServices
from linktor.v1 import channel_pb2_grpc


def channel_registrations(channels: ChannelServices) -> list[Registration]:
    return [(channel_pb2_grpc.add_ChannelServiceServicer_to_server, ChannelServicer(channels))]
