"""Building the grpc.aio server: interceptors, health, reflection, and the UNIMPLEMENTED
fallback that names the RPC for methods no servicer implements yet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from linktor.server.api.errors import abort_with, internal_status, to_status
from linktor.server.api.served import Registration, ServedApi, record
from linktor.server.api.services import public_services
from linktor.server.logs import get_logger
from linktor.server.shared.errors import DomainError

log = get_logger(__name__)

__all__ = ["Registration", "build_grpc_server", "grpc_server_for", "served_api", "set_serving"]

MAX_MESSAGE_BYTES = 20 * 1024 * 1024


async def _fail(context: grpc.aio.ServicerContext[Any, Any], exc: Exception, method: str) -> None:
    if isinstance(exc, DomainError):
        await abort_with(context, to_status(exc))
    log.exception("unhandled error in rpc", method=method)
    await abort_with(context, internal_status())


def _wrap(handler: Any, method: str) -> Any:
    """Run the handler and turn any exception into a rich status (the one error mapping)."""
    common = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        inner_uu = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                return await inner_uu(request, context)
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await _fail(context, exc, method)

        return grpc.unary_unary_rpc_method_handler(unary_unary, **common)
    if handler.unary_stream is not None:
        inner_us = handler.unary_stream

        async def unary_stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            try:
                async for item in inner_us(request, context):
                    yield item
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await _fail(context, exc, method)

        return grpc.unary_stream_rpc_method_handler(unary_stream, **common)
    if handler.stream_unary is not None:
        inner_su = handler.stream_unary

        async def stream_unary(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
        ) -> Any:
            try:
                return await inner_su(requests, context)
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await _fail(context, exc, method)

        return grpc.stream_unary_rpc_method_handler(stream_unary, **common)
    inner_ss = handler.stream_stream

    async def stream_stream(
        requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        try:
            async for item in inner_ss(requests, context):
                yield item
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:
            await _fail(context, exc, method)

    return grpc.stream_stream_rpc_method_handler(stream_stream, **common)


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Maps DomainError (and unexpected exceptions) to google.rpc.Status for every RPC."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return _wrap(handler, handler_call_details.method)


class UnimplementedFallback(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """Answers UNIMPLEMENTED, naming the RPC, for linktor.v1 methods nobody serves yet."""

    def __init__(self) -> None:
        self._methods: dict[str, bool] = {}
        for service in public_services():
            for method in service.methods:
                self._methods[f"/{service.full_name}/{method.name}"] = method.server_streaming

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        method = handler_call_details.method
        if method not in self._methods:
            return None
        rpc = method.lstrip("/").replace("/", ".")
        message = f"{rpc} is not implemented yet"

        async def unary(_request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

        async def streaming(
            _request: bytes, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[bytes]:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
            yield b""  # pragma: no cover - unreachable; makes this an async generator

        if self._methods[method]:
            return grpc.unary_stream_rpc_method_handler(streaming)
        return grpc.unary_unary_rpc_method_handler(unary)


def served_api(
    registrations: Sequence[Registration], interceptors: Sequence[Any] = ()
) -> ServedApi:
    """The servicers, the UNIMPLEMENTED fallback and the interceptor chain (error mapping
    outermost, then ``interceptors``), built once for the gRPC server and REST alike."""
    handlers, registered = record(registrations)
    return ServedApi(
        handlers=(*handlers, UnimplementedFallback()),
        registered=tuple(registered),
        interceptors=(ErrorMappingInterceptor(), *interceptors),
    )


def build_grpc_server(
    registrations: Sequence[Registration],
    *,
    interceptors: Sequence[Any] = (),
) -> tuple[grpc.aio.Server, Any]:
    """A server with the given servicers, health, reflection and the UNIMPLEMENTED fallback."""
    return grpc_server_for(served_api(registrations, interceptors))


def grpc_server_for(api: ServedApi) -> tuple[grpc.aio.Server, Any]:
    """A grpc.aio server for ``api``, plus health and reflection.

    Health starts NOT_SERVING; the runtime flips it to SERVING once everything is ready.
    """
    server = grpc.aio.server(
        interceptors=api.interceptors,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    api.add_to(server)
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [s.full_name for s in public_services()]
    names += [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
    reflection.enable_server_reflection(names, server)
    return server, health_servicer


async def set_serving(health_servicer: Any, serving: bool) -> None:
    """Flip the overall and per-service health status."""
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    await health_servicer.set("", status)
    for service in public_services():
        await health_servicer.set(service.full_name, status)
