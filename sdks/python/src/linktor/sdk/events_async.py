"""The event stream: StreamEvents that reconnects and resumes on its own."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

import grpc

from linktor.sdk._generated import specs
from linktor.sdk.errors import (
    Aborted,
    Cancelled,
    DeadlineExceeded,
    InternalError,
    LinktorError,
    RateLimited,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
)
from linktor.v1 import event_pb2

if TYPE_CHECKING:
    from linktor.sdk._transport_async import AsyncTransport

# Failures after which a new stream may work: the server restarted or was unreachable, a
# proxy cut an idle connection, or the server asked to slow down.
_RECONNECTABLE = (Unavailable, Cancelled, DeadlineExceeded, InternalError, Aborted, RateLimited)


class AsyncEventStream:
    """``async for event in client.events.stream(...)``: every event, in order, once.

    The stream keeps the sequence of the last stored event it returned (``last_sequence``)
    and, when the connection drops or the server restarts, opens a new stream after it with
    exponential backoff (``max_backoff`` at most, ``max_reconnects`` consecutive failures at
    most; None: forever). Stored events are neither missed nor repeated across reconnects;
    ephemeral ones (typing) sent while disconnected are lost, as they are not stored.

    A stream started live (``after_sequence=0``) resumes from the first stored event it
    returned; until one arrived, a reconnect starts live again.

    Raises :class:`~linktor.sdk.errors.EventSequenceExpired` when the events to resume from
    are no longer kept (after 7 days): resynchronize, then stream from its
    ``resume_sequence``. Other failures (permissions, bad filters) raise at once.
    """

    def __init__(
        self,
        transport: AsyncTransport,
        request: event_pb2.StreamEventsRequest,
        *,
        max_reconnects: int | None = None,
        initial_backoff: float = 0.2,
        max_backoff: float = 30.0,
    ) -> None:
        self._transport = transport
        self._request = request
        self.max_reconnects = max_reconnects
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        #: The sequence of the last stored event returned (where a reconnect resumes).
        self.last_sequence = request.after_sequence
        #: How many times the stream was opened again after a failure.
        self.reconnects = 0
        self._call: Any = None
        self._events: Any = None
        self._failures = 0
        self._closed = False

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> event_pb2.Event:
        while not self._closed:
            if self._events is None:
                await self._open()
            try:
                event: event_pb2.Event = await self._events.__anext__()
            except StopAsyncIteration:
                # A live stream never ends by itself: the server is going away.
                await self._reconnect(Unavailable("the event stream ended"))
                continue
            except grpc.RpcError as exc:
                if self._closed:
                    break
                await self._reconnect(from_rpc_error(exc, method=specs.EVENTS_STREAM_EVENTS.method))
                continue
            self._failures = 0
            if event.sequence:
                if event.sequence <= self.last_sequence:
                    continue  # already returned before a reconnect
                self.last_sequence = event.sequence
            return event
        raise StopAsyncIteration

    async def _open(self) -> None:
        request = event_pb2.StreamEventsRequest()
        request.CopyFrom(self._request)
        request.after_sequence = self.last_sequence
        await self._transport.prepare(specs.EVENTS_STREAM_EVENTS, request)
        self._request.parent = request.parent
        self._bearer = await self._transport.session.bearer()
        self._call = self._transport.open_stream(specs.EVENTS_STREAM_EVENTS, request, self._bearer)
        self._events = self._call.__aiter__()

    async def _reconnect(self, error: LinktorError) -> None:
        self._drop()
        self._failures += 1
        renewable = isinstance(error, Unauthenticated) and self._failures == 1
        if renewable and await self._transport.session.recover(self._bearer):
            return  # tokens renewed: reopen at once
        if not isinstance(error, _RECONNECTABLE):
            raise error
        if self.max_reconnects is not None and self._failures > self.max_reconnects:
            raise error
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** (self._failures - 1))
        wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter
        if error.retry_after is not None:
            wait = max(wait, error.retry_after)
        self.reconnects += 1
        await asyncio.sleep(wait)

    def _drop(self) -> None:
        if self._call is not None:
            self._call.cancel()
        self._call = self._events = None

    async def aclose(self) -> None:
        """Stop streaming (also what leaving an ``async for`` early should be followed by)."""
        self._closed = True
        self._drop()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
