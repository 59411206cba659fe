"""Fixtures: the test protos compiled at test time, an echo gRPC server, gateway clients.

The echo server serves every service of the test descriptor set generically: it returns
the request itself when the response has the request's type, and always reports the
request it received (``echo-request-bin``) and its metadata (``echo-metadata``) as trailing
metadata, which the gateway hands back as ``Grpc-Trailer-*`` headers. So every test goes
through the real gateway and a real gRPC hop, and checks what the service received.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import any_pb2, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_tools import protoc  # type: ignore[import-untyped, unused-ignore]

from linktor.gateway.app import TranscodingApp
from linktor.gateway.descriptors import load_descriptor_set
from linktor.gateway.invoker import ChannelInvoker
from linktor.gateway.routes import RouteTable, build_routes

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROTOS = HERE / "protos"
PACKAGE = "gatewaytest.v1"


def compile_test_protos(out: Path) -> Path:
    """A FileDescriptorSet (with imports and comments) of tests/protos, built by grpc_tools."""
    target = out / "gatewaytest.binpb"
    well_known = resources.files("grpc_tools") / "_proto"
    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{REPO / 'third_party'}",
        f"-I{well_known}",
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={target}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {args}")
    return target


class TestApi:
    """The compiled test descriptor set, loaded into its own pool."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pool, self.fds = load_descriptor_set(path)

    def message_class(self, name: str) -> type[Message]:
        return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))

    def routes(self, *services: str) -> RouteTable:
        return build_routes([self.pool.FindServiceByName(f"{PACKAGE}.{s}") for s in services])

    def all_services(self) -> list[str]:
        return [s.name for f in self.fds.file if f.package == PACKAGE for s in f.service]


@pytest.fixture(scope="session")
def test_api(tmp_path_factory: pytest.TempPathFactory) -> TestApi:
    return TestApi(compile_test_protos(tmp_path_factory.mktemp("protos")))


def _metadata_json(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    pairs = []
    for key, value in context.invocation_metadata() or ():
        text = base64.b64encode(value).decode() if isinstance(value, bytes) else value
        pairs.append([key, text])
    return json.dumps(pairs)


class EchoServer:
    def __init__(self, api: TestApi) -> None:
        self.api = api
        self.detail_class = api.message_class("CustomDetail")

    def _echo_trailers(
        self, request: Message, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tuple[tuple[str, str | bytes], ...]:
        return (
            ("echo-request-bin", request.SerializeToString()),
            ("echo-metadata", _metadata_json(context)),
        )

    async def _fail(
        self,
        request: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        echo: tuple[tuple[str, str | bytes], ...],
    ) -> None:
        if request.sleep_ms:
            await asyncio.sleep(request.sleep_ms / 1000)
        if not request.code:
            return
        status = status_pb2.Status(code=request.code, message=request.message)
        if request.with_details:
            status.details.add().Pack(
                error_details_pb2.ErrorInfo(
                    reason="TEST_REASON", domain="test.local", metadata={"k": "v"}
                )
            )
            custom = any_pb2.Any()
            custom.Pack(self.detail_class(hint="try again"))
            status.details.append(custom)
        trailers = (("grpc-status-details-bin", status.SerializeToString()), *echo)
        code = next(c for c in grpc.StatusCode if c.value[0] == request.code)
        await context.abort(code, request.message, trailing_metadata=trailers)

    def unary(
        self, method: MethodDescriptor
    ) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Message]]:
        output = message_factory.GetMessageClass(method.output_type)
        book = self.api.message_class("Book")

        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
            echo = self._echo_trailers(request, context)
            await context.send_initial_metadata((("echo-initial", "yes"),))
            context.set_trailing_metadata(echo)
            if method.name == "Fail":
                await self._fail(request, context, echo)
            if method.output_type is method.input_type:
                return request  # type: ignore[no-any-return]
            response = output()
            if method.name == "ListBooks":
                response.books.append(book(name=f"{request.parent}/books/1", title="One"))  # type: ignore[attr-defined]
                response.next_page_token = "next"  # type: ignore[attr-defined]
            return response

        return handle

    def stream(
        self, method: MethodDescriptor
    ) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Message]]:
        book = message_factory.GetMessageClass(method.output_type)

        async def handle(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Message]:
            for index in range(request.count):
                if index == request.fail_after:
                    await context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION, f"stopped after {index}"
                    )
                yield book(name=f"{request.parent}/books/{index}", title=f"Book {index}")
                await asyncio.sleep(0)

        return handle

    def handlers(self) -> list[grpc.GenericRpcHandler[Any, Any]]:
        out = []
        for name in self.api.all_services():
            service = self.api.pool.FindServiceByName(f"{PACKAGE}.{name}")
            methods = {}
            for method in service.methods:
                request = message_factory.GetMessageClass(method.input_type)
                serialize = _serialize
                if method.server_streaming:
                    methods[method.name] = grpc.unary_stream_rpc_method_handler(
                        self.stream(method), request.FromString, serialize
                    )
                else:
                    methods[method.name] = grpc.unary_unary_rpc_method_handler(
                        self.unary(method), request.FromString, serialize
                    )
            out.append(grpc.method_handlers_generic_handler(service.full_name, methods))
        return out


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


@pytest.fixture
def echo_handlers(test_api: TestApi) -> list[grpc.GenericRpcHandler[Any, Any]]:
    """The echo service's handlers, for in-process invocation."""
    return EchoServer(test_api).handlers()


@pytest.fixture(scope="session")
async def echo_target(test_api: TestApi) -> AsyncIterator[str]:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(EchoServer(test_api).handlers())
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.fixture(scope="session")
async def echo_channel(echo_target: str) -> AsyncIterator[grpc.aio.Channel]:
    channel = grpc.aio.insecure_channel(echo_target)
    yield channel
    await channel.close(None)


GatewayFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
def gateway(test_api: TestApi, echo_channel: grpc.aio.Channel) -> GatewayFactory:
    """``gateway("Example1", ...)``: an HTTP client of a TranscodingApp for those services."""

    def make(*services: str, **options: Any) -> httpx.AsyncClient:
        app = TranscodingApp(
            test_api.routes(*services), ChannelInvoker(echo_channel), pool=test_api.pool, **options
        )
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4321))
        return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")

    return make


def received(response: httpx.Response, message_class: type[Message]) -> Message:
    """The request message the echo service received, from its trailing metadata."""
    raw = response.headers.get("grpc-trailer-echo-request-bin")
    assert raw is not None, f"no echo in response {response.status_code}: {response.text}"
    return message_class.FromString(base64.b64decode(raw))


def received_metadata(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in json.loads(response.headers["grpc-trailer-echo-metadata"])]


@pytest.fixture
def echo() -> Callable[[httpx.Response, type[Message]], Message]:
    return received


@pytest.fixture
def echo_metadata() -> Callable[[httpx.Response], list[tuple[str, str]]]:
    return received_metadata
