"""A kit adapter whose health turns NOT_SERVING shortly after the handshake (for the host's
health watching): the process stays up, only the health check tells."""

from __future__ import annotations

import asyncio
import os

from grpc_health.v1 import health_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import BaseAdapter, protocol
from linktor.adapterkit.serve import PluginServer
from linktor.v1 import channel_pb2, common_pb2


class Sms(BaseAdapter):
    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        return adapter_pb2.GetCapabilitiesResponse(
            channel_type=common_pb2.CHANNEL_TYPE_SMS,
            adapter_name="flaky",
            capabilities=channel_pb2.ChannelCapabilities(
                content_kinds=[channel_pb2.CONTENT_KIND_TEXT]
            ),
        )


async def main() -> None:
    plugin = PluginServer(Sms())
    address = plugin.bind_loopback(os.environ)
    await plugin.start()
    print(protocol.HandshakeLine(1, 1, "tcp", address).format(), flush=True)
    await asyncio.sleep(0.5)
    await plugin.health.set(protocol.HEALTH_SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main())
