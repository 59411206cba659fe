"""The gRPC side of authentication: every linktor.v1 call passes through the Authenticator
before its servicer runs, with the resolved Principal current for the call. Health and
reflection stay open. Failures are DomainErrors, mapped to statuses by the error interceptor
that wraps this one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from linktor.server.identity.api.mapping import client_address
from linktor.server.identity.app.authenticate import Authenticator
from linktor.server.shared.principal import reset_current_principal, set_current_principal

PROTECTED_PREFIX = "/linktor.v1."


def authorization_of(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization":
            return value if isinstance(value, str) else value.decode("latin-1")
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(PROTECTED_PREFIX):
            return handler
        header = authorization_of(handler_call_details.invocation_metadata)
        authenticate = self._authenticator.authenticate
        common = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }

        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                principal = await authenticate(header, method, client_address(context.peer()))
                token = set_current_principal(principal)
                try:
                    return await inner_uu(request, context)
                finally:
                    reset_current_principal(token)

            return grpc.unary_unary_rpc_method_handler(unary_unary, **common)

        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def unary_stream(
                request: Any, context: grpc.aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                principal = await authenticate(header, method, client_address(context.peer()))
                token = set_current_principal(principal)
                try:
                    async for item in inner_us(request, context):
                        yield item
                finally:
                    reset_current_principal(token)

            return grpc.unary_stream_rpc_method_handler(unary_stream, **common)

        if handler.stream_unary is not None:
            inner_su = handler.stream_unary

            async def stream_unary(
                requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
            ) -> Any:
                principal = await authenticate(header, method, client_address(context.peer()))
                token = set_current_principal(principal)
                try:
                    return await inner_su(requests, context)
                finally:
                    reset_current_principal(token)

            return grpc.stream_unary_rpc_method_handler(stream_unary, **common)

        inner_ss = handler.stream_stream

        async def stream_stream(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            principal = await authenticate(header, method, client_address(context.peer()))
            token = set_current_principal(principal)
            try:
                async for item in inner_ss(requests, context):
                    yield item
            finally:
                reset_current_principal(token)

        return grpc.stream_stream_rpc_method_handler(stream_stream, **common)
