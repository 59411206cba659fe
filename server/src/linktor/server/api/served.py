"""What the API serves, built once and given to both transports.

The grpc.aio server and the in-process REST transcoder (``LocalInvoker``) must run the very
same handlers through the very same interceptors, so that authentication, rate limits,
validation and error mapping cannot drift apart. ``ServedApi`` is that one set: the generic
handlers (recorded from the generated ``add_XServicer_to_server`` functions), the
registered-method tables grpc uses for its fast path, and the interceptor chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc

# Servicer registration: a function like add_MessageServiceServicer_to_server and its servicer.
Registration = tuple[Callable[[Any, grpc.aio.Server], None], object]

# Strings: grpc's classes are generic only for type checkers, not at run time.
GenericHandler: TypeAlias = "grpc.GenericRpcHandler[Any, Any]"
MethodHandlers: TypeAlias = "Mapping[str, grpc.RpcMethodHandler[Any, Any]]"


@dataclass(frozen=True)
class ServedApi:
    """Handlers and interceptors shared by the gRPC server and the REST transcoder."""

    # Servicers' generic handlers first, then fallbacks (order of lookup).
    handlers: tuple[GenericHandler, ...]
    # (service name, {method: handler}) for grpc.aio.Server.add_registered_method_handlers.
    registered: tuple[tuple[str, MethodHandlers], ...]
    # Outermost first, as for grpc.aio.server(interceptors=...).
    interceptors: tuple[grpc.aio.ServerInterceptor[Any, Any], ...]

    def add_to(self, server: grpc.aio.Server) -> None:
        """Register the handlers on a grpc.aio server (before it starts)."""
        for service, methods in self.registered:
            # In grpc.aio since 1.62 (what generated code calls), not yet in the stubs.
            server.add_registered_method_handlers(service, dict(methods))  # type: ignore[attr-defined]
        server.add_generic_rpc_handlers(self.handlers)


class _Recorder:
    """Stands in for a server while generated ``add_XServicer_to_server`` functions run."""

    def __init__(self) -> None:
        self.handlers: list[GenericHandler] = []
        self.registered: list[tuple[str, MethodHandlers]] = []

    def add_generic_rpc_handlers(self, handlers: Sequence[GenericHandler]) -> None:
        self.handlers.extend(handlers)

    def add_registered_method_handlers(self, service: str, methods: MethodHandlers) -> None:
        self.registered.append((service, methods))


def record(
    registrations: Sequence[Registration],
) -> tuple[list[GenericHandler], list[tuple[str, MethodHandlers]]]:
    """The generic handlers and registered-method tables the registrations would add."""
    recorder = _Recorder()
    for add, servicer in registrations:
        add(servicer, recorder)  # type: ignore[arg-type]
    return recorder.handlers, recorder.registered
