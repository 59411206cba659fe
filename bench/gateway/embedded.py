"""The benchmark's embedded server: one process serving the same GetContact over gRPC and
over REST, REST calling the gRPC handler in process (LocalInvoker) the way `linktor serve`
does. Same event loop (plain asyncio, like backend.py) for both.

    python -m bench.gateway.embedded --grpc-port 50051 --http-port 8080
"""

from __future__ import annotations

import argparse
import asyncio

import grpc
import uvicorn

from bench.gateway.backend import handlers
from linktor.gateway.app import TranscodingApp
from linktor.gateway.local_invoker import LocalInvoker
from linktor.gateway.routes import build_routes
from linktor.v1 import contact_pb2


async def serve(grpc_port: int, http_port: int) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(handlers())
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    await server.start()
    table = build_routes([contact_pb2.DESCRIPTOR.services_by_name["ContactService"]])
    app = TranscodingApp(table, LocalInvoker(handlers()))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=http_port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
    await uvicorn.Server(config).serve()
    await server.stop(None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.grpc_port, args.http_port))


if __name__ == "__main__":
    main()
