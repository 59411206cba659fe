"""The one thing the HTTP side needs from gRPC: "call this method with this message".

``Invoker`` is that abstraction. ``ChannelInvoker`` forwards over a grpc.aio channel (the
standalone gateway); an embedding server can instead call its own handlers in process
(see ``local_invoker.LocalInvoker``) so that authentication, rate limits, validation and
error mapping are the very same code for gRPC and REST.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from linktor.gateway.status import Metadata, RpcFailure, status_from_metadata


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the HTTP request contributes to the call besides the message."""

    metadata: Metadata = ()
    timeout: float | None = None
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class UnaryResult:
    message: Message
    initial_metadata: Metadata = field(default=())
    trailing_metadata: Metadata = field(default=())


class Invoker(Protocol):
    """Calls gRPC methods; failures are raised as ``status.RpcFailure``."""

    async def unary(
        self, method: MethodDescriptor, request: Message, call: CallContext
    ) -> UnaryResult: ...

    def server_stream(
        self, method: MethodDescriptor, request: Message, call: CallContext
    ) -> AsyncIterator[Message]: ...


def method_path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _failure(error: grpc.aio.AioRpcError) -> RpcFailure:
    trailing = _pairs(error.trailing_metadata())
    code = error.code().value[0]
    return RpcFailure(status_from_metadata(code, error.details() or "", trailing), trailing)


def _pairs(metadata: Any) -> Metadata:
    return tuple((str(k), v) for k, v in metadata) if metadata else ()


class ChannelInvoker:
    """Forwards calls over a grpc.aio channel to any server, by method descriptor alone."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._channel = channel
        self._callables: dict[str, Any] = {}

    def _callable(self, method: MethodDescriptor) -> Any:
        """The multi-callable of the method (built once: they are cheap to keep, slow to make)."""
        found = self._callables.get(method.full_name)
        if found is None:
            response_class = message_factory.GetMessageClass(method.output_type)
            channel = self._channel
            make = channel.unary_stream if method.server_streaming else channel.unary_unary
            found = make(
                method_path(method),
                request_serializer=_serialize,
                response_deserializer=response_class.FromString,
            )
            self._callables[method.full_name] = found
        return found

    async def unary(
        self, method: MethodDescriptor, request: Message, call: CallContext
    ) -> UnaryResult:
        rpc = self._callable(method)(request, metadata=call.metadata or None, timeout=call.timeout)
        try:
            response = await rpc
            initial = await rpc.initial_metadata()
            trailing = await rpc.trailing_metadata()
        except grpc.aio.AioRpcError as error:
            raise _failure(error) from None
        return UnaryResult(response, _pairs(initial), _pairs(trailing))

    async def server_stream(
        self, method: MethodDescriptor, request: Message, call: CallContext
    ) -> AsyncIterator[Message]:
        rpc = self._callable(method)(request, metadata=call.metadata or None, timeout=call.timeout)
        try:
            async for message in rpc:
                yield message
        except grpc.aio.AioRpcError as error:
            raise _failure(error) from None
        finally:
            rpc.cancel()


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()
