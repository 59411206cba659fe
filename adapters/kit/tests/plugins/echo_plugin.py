"""Test plugins, one per behaviour (argv[1]): a well-behaved echo adapter and broken ones.

- ok: serves an echo adapter through linktor.adapterkit.serve (logs one structured line);
- garbage: prints something other than a handshake line;
- exit: writes to stderr and exits 3 before the handshake;
- silent: never prints anything;
- stubborn: a hand-written handshake without GRPCController, ignoring SIGTERM;
- spawn-and-die: starts an `ok` plugin, prints its pid, and exits (orphaning it);
- lie-and-exit: prints a handshake line for a port nobody listens on, then exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import BaseAdapter, serve
from linktor.v1 import channel_pb2, common_pb2


class Echo(BaseAdapter):
    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        return adapter_pb2.GetCapabilitiesResponse(
            channel_type=common_pb2.CHANNEL_TYPE_SMS,
            adapter_name="echo",
            capabilities=channel_pb2.ChannelCapabilities(
                content_kinds=[channel_pb2.CONTENT_KIND_TEXT]
            ),
        )

    async def send(self, request: adapter_pb2.SendRequest) -> adapter_pb2.SendResponse:
        print("stray print after the handshake")  # must end up on stderr, not stdout
        logging.getLogger("echo").info("sending", extra={"message_id": request.message_id})
        return adapter_pb2.SendResponse(provider_message_id="echo-" + request.message_id)


async def stubborn() -> None:
    server = grpc.aio.server()
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health.set("plugin", health_pb2.HealthCheckResponse.SERVING)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(f"1|1|tcp|127.0.0.1:{port}|grpc", flush=True)
    await asyncio.sleep(3600)


def main() -> None:
    mode = sys.argv[1]
    if mode == "ok":
        serve(Echo())
    elif mode == "garbage":
        print("Starting my adapter v1.0 ...", flush=True)
        time.sleep(30)
    elif mode == "exit":
        sys.stderr.write("config file /etc/echo.toml not found\n")
        sys.exit(3)
    elif mode == "silent":
        time.sleep(30)
    elif mode == "stubborn":
        asyncio.run(stubborn())
    elif mode == "lie-and-exit":
        print("1|1|tcp|127.0.0.1:9|grpc", flush=True)
    elif mode == "spawn-and-die":
        env = {**os.environ, "LINKTOR_ADAPTER_HOST_PID": str(os.getpid())}
        child = subprocess.Popen([sys.executable, __file__, "ok"], stdout=subprocess.PIPE, env=env)
        assert child.stdout is not None
        child.stdout.readline()
        print(child.pid, flush=True)
        os._exit(0)


if __name__ == "__main__":
    main()
