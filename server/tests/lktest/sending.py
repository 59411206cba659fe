"""Sending many messages through SendMessage over gRPC (grpc.aio), for fault tests: what was
accepted, what failed and how, while the test injects its fault on the side."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import grpc

from linktor.v1 import content_pb2, message_pb2, message_pb2_grpc
from lktest.deployment import Deployment

CALL_TIMEOUT_SECONDS = 60.0


def text_request(
    channel: str, address: str, body: str, request_id: str
) -> message_pb2.SendMessageRequest:
    return message_pb2.SendMessageRequest(
        recipient=message_pb2.Recipient(channel=channel, address=address),
        content=content_pb2.MessageContent(text=content_pb2.TextContent(body=body)),
        request_id=request_id,
    )


@dataclass
class Sent:
    """Outcome of a burst: names of accepted messages, error codes of refused calls."""

    names: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""

    @property
    def accepted(self) -> int:
        return len(self.names)


async def send_burst(
    deploy: Deployment,
    channel: str,
    count: int,
    *,
    concurrency: int,
    tag: str,
    recipients: int = 100,
    sent: Sent | None = None,
) -> Sent:
    """Send ``count`` texts (``concurrency`` callers); ``sent`` fills in as answers come, so
    a test can watch progress from another task."""
    sent = sent if sent is not None else Sent()
    numbers = iter(range(count))
    async with grpc.aio.insecure_channel(deploy.grpc_target) as conn:
        stub = message_pb2_grpc.MessageServiceStub(conn)

        async def caller() -> None:
            for n in numbers:
                request = text_request(
                    channel, f"+1555{n % recipients:07d}", f"{tag} {n}", f"{tag}-{n}"
                )
                try:
                    answer = await stub.SendMessage(
                        request, metadata=deploy.metadata, timeout=CALL_TIMEOUT_SECONDS
                    )
                except grpc.aio.AioRpcError as exc:
                    sent.errors[exc.code().name] += 1
                    sent.first_error = sent.first_error or f"{exc.code().name}: {exc.details()}"
                    continue
                sent.names.append(answer.name)

        await asyncio.gather(*(caller() for _ in range(concurrency)))
    return sent


async def wait_until(
    check: object,
    timeout: float,  # noqa: ASYNC109 - a polling deadline
    interval: float = 0.1,
) -> None:
    """Poll ``check()`` (sync or async) until truthy; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert callable(check)
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        await asyncio.sleep(interval)
    raise TimeoutError(f"condition not met within {timeout}s")
