"""Calling a gRPC server's own handlers in process, through its own interceptors.

This is how an application that serves gRPC and REST in one process (``linktor serve``)
makes REST share authentication, rate limits, validation and error mapping with gRPC:
the REST request becomes a call to the very handler gRPC would run, wrapped by the very
same ``grpc.aio.ServerInterceptor`` chain, with the HTTP headers as invocation metadata.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from linktor.gateway.invoker import CallContext, UnaryResult, method_path
from linktor.gateway.local_context import AbortError, LocalContext
from linktor.gateway.status import Metadata, RpcFailure, make_status

logger = logging.getLogger("linktor.gateway")

_UNKNOWN, _UNIMPLEMENTED, _DEADLINE_EXCEEDED = 2, 12, 4
# A string: grpc's classes are generic only for type checkers, not at run time.
Continuation: TypeAlias = (
    "Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]]"
)


@dataclass(frozen=True)
class _CallDetails:
    """grpc.HandlerCallDetails for an in-process call."""

    method: str
    invocation_metadata: Metadata


class LocalInvoker:
    """An ``Invoker`` over the generic handlers and interceptors of a grpc.aio server."""

    def __init__(
        self,
        handlers: Sequence[grpc.GenericRpcHandler[Any, Any]],
        interceptors: Sequence[grpc.aio.ServerInterceptor[Any, Any]] = (),
    ) -> None:
        self._handlers = list(handlers)
        self._interceptors = list(interceptors)

    async def _find(
        self, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        for handler in self._handlers:
            found = handler.service(details)
            if found is not None:
                return found
        return None

    async def _resolve(self, method: str, call: CallContext) -> grpc.RpcMethodHandler[Any, Any]:
        continuation: Continuation = self._find
        # The first interceptor is the outermost, as in grpc.aio.server(interceptors=...).
        for interceptor in reversed(self._interceptors):
            continuation = _wrap(interceptor, continuation)
        handler = await continuation(_CallDetails(method, tuple(call.metadata)))  # type: ignore[arg-type]
        if handler is None:
            raise RpcFailure(make_status(_UNIMPLEMENTED, f"Method not found: {method}"))
        return handler

    async def unary(
        self, method: MethodDescriptor, request: Message, call: CallContext
    ) -> UnaryResult:
        path = method_path(method)
        handler = await self._resolve(path, call)
        context = LocalContext(path, call)
        request = _adapt(handler, request)
        try:
            async with asyncio.timeout(call.timeout):
                outcome = handler.unary_unary(request, context)  # type: ignore[misc, arg-type]
                response = await outcome if inspect.isawaitable(outcome) else outcome
        except AbortError as abort:
            raise abort.failure from None
        except TimeoutError:
            raise RpcFailure(make_status(_DEADLINE_EXCEEDED, "Deadline Exceeded")) from None
        except RpcFailure:
            raise
        except Exception as error:
            logger.exception("handler of %s failed", path)
            raise RpcFailure(make_status(_UNKNOWN, f"Unexpected {type(error).__name__}")) from None
        failure = context.failure()
        if failure is not None:
            raise failure
        return UnaryResult(response, context.initial_metadata, context.trailing_metadata())

    async def server_stream(
        self, method: MethodDescriptor, request: Message, call: CallContext
    ) -> AsyncIterator[Message]:
        path = method_path(method)
        handler = await self._resolve(path, call)
        context = LocalContext(path, call)
        outcome = handler.unary_stream(_adapt(handler, request), context)  # type: ignore[misc, arg-type]
        try:
            async with asyncio.timeout(call.timeout):
                async for message in _messages(outcome, context):
                    yield message
        except AbortError as abort:
            raise abort.failure from None
        except TimeoutError:
            raise RpcFailure(make_status(_DEADLINE_EXCEEDED, "Deadline Exceeded")) from None
        failure = context.failure()
        if failure is not None:
            raise failure


def _wrap(
    interceptor: grpc.aio.ServerInterceptor[Any, Any], continuation: Continuation
) -> Continuation:
    async def call(details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any] | None:
        return await interceptor.intercept_service(continuation, details)  # type: ignore[arg-type]

    return call


def _adapt(handler: grpc.RpcMethodHandler[Any, Any], request: Message) -> Message:
    """The request as the handler's own message class (re-encoded if the gateway's routes
    were built from another descriptor pool than the servicer's generated code)."""
    deserializer = handler.request_deserializer
    expected = getattr(deserializer, "__self__", None)
    if deserializer is None or (isinstance(expected, type) and isinstance(request, expected)):
        return request
    return deserializer(request.SerializeToString())  # type: ignore[no-any-return]


async def _messages(outcome: Any, context: LocalContext) -> AsyncIterator[Message]:
    if hasattr(outcome, "__aiter__"):
        async for message in outcome:
            yield message
    elif inspect.isawaitable(outcome):
        # A handler that streams with ``await context.write(...)`` and returns None.
        context.queue = asyncio.Queue()
        done = object()
        task = asyncio.ensure_future(outcome)
        task.add_done_callback(lambda _: context.queue.put_nowait(done))  # type: ignore[union-attr]
        try:
            while (item := await context.queue.get()) is not done:
                yield item
            task.result()
        finally:
            task.cancel()
    else:
        for message in outcome:
            yield message
