"""The ASGI application that serves REST for the routes of a RouteTable through an Invoker."""

from __future__ import annotations

import logging
from collections.abc import Callable

from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]

from linktor.gateway import streaming
from linktor.gateway.asgi import (
    ASGIApp,
    BodyTooLarge,
    Headers,
    Receive,
    Scope,
    Send,
    header,
    lifespan,
    read_body,
    send_response,
)
from linktor.gateway.invoker import CallContext, Invoker
from linktor.gateway.metadata import (
    ForwardingRules,
    client_host,
    request_metadata,
    response_headers,
)
from linktor.gateway.request_mapping import build_request
from linktor.gateway.response_mapping import render_response, response_json
from linktor.gateway.router import Match
from linktor.gateway.routes import Route, RouteTable
from linktor.gateway.status import (
    BadRequest,
    RpcFailure,
    bad_request_status,
    http_status_for,
    make_status,
    render_status,
    retry_after_headers,
    status_json,
)

logger = logging.getLogger("linktor.gateway")

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


class TranscodingApp:
    """ASGI app: REST/JSON in, gRPC through ``invoker``, REST/JSON out.

    ``fallback`` (another ASGI app) receives the requests that match no route, so the
    transcoder can sit in front of an application that serves other paths; without it they
    get 404 (no route) or 405 (route exists for another method, with an Allow header).

    ``error_headers`` adds HTTP headers to every error response from its status; the
    default writes ``Retry-After`` from a google.rpc.RetryInfo detail.
    """

    def __init__(
        self,
        routes: RouteTable,
        invoker: Invoker,
        *,
        pool: DescriptorPool | None = None,
        forwarding: ForwardingRules | None = None,
        emit_unpopulated: bool = True,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        fallback: ASGIApp | None = None,
        error_headers: Callable[[status_pb2.Status], Headers] = retry_after_headers,
    ) -> None:
        self.routes = routes
        self.invoker = invoker
        self.pool = pool
        self.forwarding = forwarding or ForwardingRules()
        self.emit_unpopulated = emit_unpopulated
        self.max_body_bytes = max_body_bytes
        self.fallback = fallback
        self.error_headers = error_headers

    def match(self, http_method: str, raw_path: str) -> Match[Route] | None:
        return self.routes.router.lookup(http_method, raw_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan" and self.fallback is None:
            await lifespan(receive, send)
        elif self.fallback is not None:
            await self.fallback(scope, receive, send)

    async def _error(
        self,
        send: Send,
        status: status_pb2.Status,
        http_status: int | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        code = http_status or http_status_for(status.code)
        extra = [*(headers or ()), *self.error_headers(status)]
        await send_response(send, code, render_status(status, self.pool), extra)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        # Some servers (and httpx's test transport) leave the query string in raw_path.
        raw_path = (raw.decode("latin-1") if raw else scope["path"]).split("?", 1)[0]
        found = self.match(scope["method"], raw_path)
        if found is None:
            await self._no_route(scope, receive, send, raw_path)
            return
        route = found.value
        try:
            body = await read_body(receive, self.max_body_bytes)
            if body and not _is_json(header(scope, b"content-type")):
                status = make_status(
                    code_pb2.INVALID_ARGUMENT, "request body must be application/json"
                )
                await self._error(send, status, 415)
                return
            call = request_metadata(
                scope["headers"], client_host(scope.get("client")), self.forwarding
            )
            query = scope.get("query_string", b"").decode("utf-8")
            request = build_request(route, found.segments, query, body, self.pool)
            context = CallContext(call.metadata, call.timeout, client_host(scope.get("client")))
            if route.server_streaming:
                await self._stream(scope, receive, send, route, request, context)
            else:
                result = await self.invoker.unary(route.method, request, context)
                payload = render_response(
                    route, result.message, emit_unpopulated=self.emit_unpopulated, pool=self.pool
                )
                extra = response_headers(result.initial_metadata, result.trailing_metadata)
                await send_response(send, 200, payload, extra)
        except BadRequest as error:
            await self._error(send, bad_request_status(error.description, error.field))
        except UnicodeDecodeError:
            await self._error(send, bad_request_status("query string is not valid UTF-8"))
        except BodyTooLarge:
            status = make_status(
                code_pb2.INVALID_ARGUMENT, f"request body exceeds {self.max_body_bytes} bytes"
            )
            await self._error(send, status, 413)
        except RpcFailure as failure:
            await self._error(
                send, failure.status, None, response_headers((), failure.trailing_metadata)
            )
        except Exception:
            logger.exception("unexpected failure serving %s %s", scope["method"], raw_path)
            await self._error(send, make_status(code_pb2.INTERNAL, "internal error"))

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: Route,
        request: Message,
        context: CallContext,
    ) -> None:
        messages = self.invoker.server_stream(route.method, request, context)

        def render(message: Message) -> object:
            return response_json(
                route, message, emit_unpopulated=self.emit_unpopulated, pool=self.pool
            )

        await streaming.stream_response(
            send,
            receive,
            messages,
            sse=streaming.wants_sse(header(scope, b"accept")),
            render=render,
            render_status=lambda status: status_json(status, self.pool),
            headers=[],
        )

    async def _no_route(self, scope: Scope, receive: Receive, send: Send, raw_path: str) -> None:
        if self.fallback is not None:
            await self.fallback(scope, receive, send)
            return
        allowed = self.routes.router.allowed_methods(raw_path)
        if allowed:
            status = make_status(
                code_pb2.UNIMPLEMENTED, f"method {scope['method']} not allowed for {raw_path}"
            )
            await self._error(send, status, 405, [(b"allow", ", ".join(allowed).encode())])
            return
        await self._error(
            send, make_status(code_pb2.NOT_FOUND, f"no route for {scope['method']} {raw_path}")
        )
