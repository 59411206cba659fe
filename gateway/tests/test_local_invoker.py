"""LocalInvoker: REST calling a server's handlers in process, through its interceptors,
must answer exactly as the same handlers do over a real gRPC channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest

from linktor.gateway.app import TranscodingApp
from linktor.gateway.invoker import Invoker
from linktor.gateway.local_invoker import LocalInvoker

pytestmark = pytest.mark.integration


class RequireAuthorization(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Like an authentication interceptor: no Authorization metadata, no call."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        keys = {key for key, _ in handler_call_details.invocation_metadata or ()}
        if "authorization" in keys:
            return await continuation(handler_call_details)

        async def deny(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing credentials")

        return grpc.unary_unary_rpc_method_handler(deny)


@pytest.fixture
def local_client(
    test_api: Any, echo_handlers: list[grpc.GenericRpcHandler[Any, Any]]
) -> Callable[..., httpx.AsyncClient]:
    def make(*interceptors: grpc.aio.ServerInterceptor) -> httpx.AsyncClient:  # type: ignore[type-arg]
        invoker = LocalInvoker(echo_handlers, interceptors)
        return _client(test_api, invoker)

    return make


def _client(test_api: Any, invoker: Invoker) -> httpx.AsyncClient:
    app = TranscodingApp(test_api.routes("Kitchen"), invoker, pool=test_api.pool)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://local.test")


REQUESTS = [
    ("GET", "/v1/query?i64=5&color=COLOR_GREEN&tags=a&tags=b", None),
    ("POST", "/v1/shelves/s:publish", {"note": "x"}),
    ("POST", "/v1/fail", {"code": 5, "message": "gone"}),
    ("POST", "/v1/fail", {"code": 9, "message": "window", "withDetails": True}),
    ("GET", "/v1/shelves/s/books:stream?count=3&failAfter=-1", None),
    ("GET", "/v1/shelves/s/books:stream?count=3&failAfter=1", None),
    ("GET", "/v1/shelves/s/books:stream?count=3&failAfter=0", None),
    ("GET", "/v1/shelves/s/books?pageSize=1", None),
]


@pytest.mark.parametrize(("method", "url", "body"), REQUESTS)
async def test_local_and_channel_invokers_answer_alike(
    method: str,
    url: str,
    body: Any,
    local_client: Callable[..., httpx.AsyncClient],
    gateway: Callable[..., httpx.AsyncClient],
) -> None:
    async with local_client() as local, gateway("Kitchen") as remote:
        in_process = await local.request(method, url, json=body)
        over_grpc = await remote.request(method, url, json=body)
    assert in_process.status_code == over_grpc.status_code
    assert in_process.text == over_grpc.text
    assert in_process.headers.get("grpc-trailer-echo-request-bin") == over_grpc.headers.get(
        "grpc-trailer-echo-request-bin"
    )


async def test_interceptors_run_for_rest_calls(
    local_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with local_client(RequireAuthorization()) as client:
        denied = await client.get("/v1/single/x")
        allowed = await client.get("/v1/single/x", headers={"Authorization": "Bearer t"})
    assert denied.status_code == 401
    assert denied.json() == {"code": 16, "message": "missing credentials", "details": []}
    assert allowed.status_code == 200
    assert allowed.headers["grpc-metadata-echo-initial"] == "yes"


async def test_deadline_applies_in_process(local_client: Callable[..., httpx.AsyncClient]) -> None:
    async with local_client() as client:
        response = await client.post(
            "/v1/fail", json={"sleepMs": 2000}, headers={"Grpc-Timeout": "30m"}
        )
    assert response.status_code == 504


class MapUnexpectedErrors(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Like a server's error-mapping interceptor: aborts pass through, anything else that
    escapes a handler becomes INTERNAL."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        inner: Any = handler.unary_unary
        if inner is None:
            return handler

        async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                return await inner(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception:
                await context.abort(grpc.StatusCode.INTERNAL, "mapped")

        return grpc.unary_unary_rpc_method_handler(
            guarded, handler.request_deserializer, handler.response_serializer
        )


async def test_an_abort_passes_interceptors_that_map_other_errors(
    local_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with local_client(MapUnexpectedErrors()) as client:
        response = await client.post("/v1/fail", json={"code": 5, "message": "gone"})
    assert response.status_code == 404
    assert response.json()["message"] == "gone"


@pytest.mark.parametrize(
    ("client", "peer"),
    [(("203.0.113.7", 1), "ipv4:203.0.113.7:0"), (("2001:db8::1", 1), "ipv6:[2001:db8::1]:0")],
)
async def test_peer_is_the_http_client_in_grpc_form(
    client: tuple[str, int],
    peer: str,
    test_api: Any,
    echo_handlers: list[grpc.GenericRpcHandler[Any, Any]],
) -> None:
    seen: list[str] = []

    class RecordPeer(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
        async def intercept_service(self, continuation: Any, details: Any) -> Any:
            handler = await continuation(details)
            inner = handler.unary_unary

            async def record(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                seen.append(context.peer())
                return await inner(request, context)

            return grpc.unary_unary_rpc_method_handler(
                record, handler.request_deserializer, handler.response_serializer
            )

    app = TranscodingApp(
        test_api.routes("Kitchen"), LocalInvoker(echo_handlers, [RecordPeer()]), pool=test_api.pool
    )
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://local.test") as http:
        assert (await http.get("/v1/single/x")).status_code == 200
    assert seen == [peer]
