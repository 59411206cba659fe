"""Server-streaming RPCs over HTTP: newline-delimited JSON or Server-Sent Events.

The format follows the Accept header: ``text/event-stream`` gets SSE, anything else gets
NDJSON (``application/x-ndjson``). Each NDJSON line is ``{"result": <message>}``, and a
failure after the first message is a last line ``{"error": <google.rpc.Status>}`` (the
grpc-gateway convention, which keeps a message field named ``error`` unambiguous). In SSE
each message is a ``data:`` event and a failure is an ``event: error`` whose data is the
status. A failure before the first message is an ordinary HTTP error response, since no
status line has been sent yet. A client that goes away cancels the gRPC call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from google.protobuf.message import Message
from google.rpc import status_pb2  # type: ignore[import-untyped, unused-ignore]

from linktor.gateway.asgi import Headers, Receive, Send
from linktor.gateway.response_mapping import dump_json
from linktor.gateway.status import RpcFailure, status_json

NDJSON = b"application/x-ndjson"
SSE = b"text/event-stream"


def wants_sse(accept: bytes | None) -> bool:
    return accept is not None and SSE in accept.lower()


def _frame(sse: bool, value: object, *, error: bool = False) -> bytes:
    if sse:
        prefix = b"event: error\ndata: " if error else b"data: "
        return prefix + dump_json(value) + b"\n\n"
    return dump_json({"error" if error else "result": value}) + b"\n"


async def _watch_disconnect(receive: Receive, on_disconnect: Callable[[], None]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            on_disconnect()
            return


async def stream_response(
    send: Send,
    receive: Receive,
    messages: AsyncIterator[Message],
    *,
    sse: bool,
    render: Callable[[Message], object],
    render_status: Callable[[status_pb2.Status], object],
    headers: Headers,
) -> None:
    """Send the stream; raises RpcFailure only if the call fails before its first message."""
    task = asyncio.current_task()
    assert task is not None
    disconnected = False

    def cancel() -> None:
        nonlocal disconnected
        disconnected = True
        task.cancel()

    watcher = asyncio.create_task(_watch_disconnect(receive, cancel))
    started = False
    try:
        async for message in messages:
            if not started:
                content_type = SSE if sse else NDJSON
                start_headers = [(b"content-type", content_type), (b"cache-control", b"no-cache")]
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": start_headers + headers,
                    }
                )
                started = True
            await send(
                {
                    "type": "http.response.body",
                    "body": _frame(sse, render(message)),
                    "more_body": True,
                }
            )
        if not started:
            content_type = SSE if sse else NDJSON
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", content_type), *headers],
                }
            )
        await send({"type": "http.response.body", "body": b""})
    except RpcFailure as failure:
        if not started:
            raise
        frame = _frame(sse, render_status(failure.status), error=True)
        await send({"type": "http.response.body", "body": frame})
    except asyncio.CancelledError:
        if not disconnected:
            raise
        task.uncancel()
    finally:
        watcher.cancel()
        aclose = getattr(messages, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def status_value(status: status_pb2.Status) -> object:
    return status_json(status)
