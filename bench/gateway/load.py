"""Closed-loop load generators: N workers, each sending its next request when the last one
is answered, for a fixed time. Both clients are as thin as Python allows (grpc.aio's C core
for gRPC; a raw keep-alive HTTP/1.1 client on asyncio streams for REST) so that the
comparison measures the servers rather than the clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from linktor.v1 import contact_pb2

Call = Callable[[], Awaitable[None]]


@dataclass
class Sample:
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_closed_loop(
    make_call: Callable[[], Awaitable[Call]], workers: int, seconds: float
) -> Sample:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        call = await make_call()
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                await call()
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - start)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return Sample(latencies, errors, time.perf_counter() - began)


def grpc_caller(channel: grpc.aio.Channel, name: str) -> Callable[[], Awaitable[Call]]:
    method = channel.unary_unary(
        "/linktor.v1.ContactService/GetContact",
        request_serializer=contact_pb2.GetContactRequest.SerializeToString,
        response_deserializer=contact_pb2.Contact.FromString,
    )
    request = contact_pb2.GetContactRequest(name=name)

    async def make() -> Call:
        async def call() -> None:
            await method(request, timeout=10)

        return call

    return make


def http_caller(host: str, port: int, path: str) -> Callable[[], Awaitable[Call]]:
    head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    raw = (head + "Authorization: Bearer bench\r\n\r\n").encode()

    async def make() -> Call:
        reader, writer = await asyncio.open_connection(host, port)

        async def call() -> None:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)

        return call

    return make
