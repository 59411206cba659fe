"""The benchmark's embedded server: one process serving the same GetContact over gRPC and
over REST, composed with `linktor serve`'s own functions: the handlers and the interceptor
chain built once (served_api: error mapping, UNIMPLEMENTED fallback), the gRPC server made
from them (grpc_server_for), REST through the transcoder over the same handlers
(build_rest: LocalInvoker, every linktor.v1 route) in front of the HTTP app (RestDispatch).
Only authentication is left out (it needs the identity store). Same event loop (plain
asyncio, like backend.py) for both.

    python -m bench.gateway.embedded --grpc-port 50051 --http-port 8080
"""

from __future__ import annotations

import argparse
import asyncio

import grpc
import uvicorn

from bench.gateway.backend import handlers
from linktor.server.api.grpc_server import grpc_server_for, served_api
from linktor.server.api.http_app import build_http_app
from linktor.server.api.rest import RestDispatch, build_rest
from linktor.server.api.served import Registration


def _add_backend(_servicer: object, server: grpc.aio.Server) -> None:
    server.add_generic_rpc_handlers(handlers())


async def serve(grpc_port: int, http_port: int) -> None:
    registration: Registration = (_add_backend, None)
    api = served_api([registration])
    server, _health = grpc_server_for(api)
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    await server.start()
    app = RestDispatch(build_rest(api), build_http_app([]))
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
