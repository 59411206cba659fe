"""The standalone gateway: a descriptor set + a gRPC target -> one ASGI application."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc

from linktor.gateway.app import TranscodingApp
from linktor.gateway.descriptors import load_descriptor_set, services_of
from linktor.gateway.docs import docs_app
from linktor.gateway.invoker import ChannelInvoker
from linktor.gateway.metadata import ForwardingRules
from linktor.gateway.openapi import OpenApiOptions, build_openapi
from linktor.gateway.routes import RouteTable, build_routes


@dataclass(frozen=True)
class GatewayConfig:
    descriptor_set: Path
    grpc_target: str
    services: tuple[str, ...] = ()
    forward_headers: frozenset[str] = field(default_factory=frozenset)
    default_timeout: float | None = None
    emit_unpopulated: bool = True
    max_body_bytes: int = 4 * 1024 * 1024
    docs: bool = True
    title: str = "API"
    tls: bool = False
    ca_file: Path | None = None


def open_channel(config: GatewayConfig) -> grpc.aio.Channel:
    """A channel to the target; call inside the event loop that will use it."""
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    if not config.tls:
        return grpc.aio.insecure_channel(config.grpc_target, options=options)
    root = config.ca_file.read_bytes() if config.ca_file else None
    credentials = grpc.ssl_channel_credentials(root_certificates=root)
    return grpc.aio.secure_channel(config.grpc_target, credentials, options=options)


def build_gateway(
    config: GatewayConfig, channel: grpc.aio.Channel
) -> tuple[TranscodingApp, RouteTable]:
    """The gateway app for every annotated service in the descriptor set (or those named)."""
    pool, fds = load_descriptor_set(config.descriptor_set)
    table = build_routes(services_of(pool, fds.file, config.services))
    fallback = None
    if config.docs:
        document = build_openapi(
            table.routes, list(fds.file), pool, OpenApiOptions(title=config.title)
        )
        fallback = docs_app(document, title=config.title)
    app = TranscodingApp(
        table,
        ChannelInvoker(channel),
        pool=pool,
        forwarding=ForwardingRules(config.forward_headers, config.default_timeout),
        emit_unpopulated=config.emit_unpopulated,
        max_body_bytes=config.max_body_bytes,
        fallback=fallback,
    )
    return app, table
