"""Load for the send-pipeline benchmark: SendMessage over gRPC from a real grpc.aio client.

Closed loop: ``concurrency`` callers, each sending its next message when the previous one
is answered. Open loop: one call started every 1/rate seconds whatever the answers do, and
latency counted from when the call was DUE, so a stalled server shows up in the tail
instead of silently slowing the load down (no coordinated omission).

Every message carries a request_id (SDKs add one automatically) and goes to one of
``recipients`` addresses, so it may create the contact and conversation on first use.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

import grpc

from linktor.v1 import content_pb2, message_pb2, message_pb2_grpc

# Calls running at once in the open loop before it counts the rest as errors (a bound, so
# a dead server cannot make the benchmark pile up tasks without end).
OPEN_LOOP_MAX_IN_FLIGHT = 2_000
CALL_TIMEOUT_SECONDS = 60.0


@dataclass
class LoadResult:
    sent: int = 0
    errors: int = 0
    first_error: str = ""
    # Wall clock (time.time()) of the first call and of the last answer.
    started: float = 0.0
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return max(self.finished - self.started, 1e-9)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


class Sender:
    """SendMessage calls for one channel, spread over a few HTTP/2 connections."""

    def __init__(
        self,
        target: str,
        metadata: tuple[tuple[str, str], ...],
        channel: str,
        *,
        recipients: int,
        tag: str,
        connections: int = 4,
    ) -> None:
        # A local subchannel pool per channel: one TCP connection each.
        self._channels = [
            grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(connections)
        ]
        self._stubs = [message_pb2_grpc.MessageServiceStub(c) for c in self._channels]
        self._metadata = metadata
        self._channel = channel
        self._recipients = recipients
        self._tag = tag

    def request(self, n: int) -> message_pb2.SendMessageRequest:
        return message_pb2.SendMessageRequest(
            recipient=message_pb2.Recipient(
                channel=self._channel, address=f"+1555{n % self._recipients:07d}"
            ),
            content=content_pb2.MessageContent(
                text=content_pb2.TextContent(body=f"benchmark message {n}")
            ),
            request_id=f"{self._tag}-{n}",
        )

    async def send(self, n: int, result: LoadResult) -> None:
        request = self.request(n)
        stub = self._stubs[n % len(self._stubs)]
        try:
            answer = await stub.SendMessage(
                request, metadata=self._metadata, timeout=CALL_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError as exc:
            result.errors += 1
            result.first_error = result.first_error or f"{exc.code().name}: {exc.details()}"
            return
        status = message_pb2.MessageStatus.Name(answer.status)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        result.sent += 1

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close(None)


async def closed_loop(sender: Sender, messages: int, concurrency: int) -> LoadResult:
    result = LoadResult()
    numbers = iter(range(messages))

    async def caller() -> None:
        for n in numbers:
            started = time.perf_counter()
            await sender.send(n, result)
            result.latencies.append(time.perf_counter() - started)

    result.started = time.time()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    result.finished = time.time()
    result.latencies.sort()
    return result


async def open_loop(sender: Sender, rate: float, seconds: float) -> LoadResult:
    result = LoadResult()
    total = int(rate * seconds)
    in_flight: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    async def call(n: int, due: float) -> None:
        await sender.send(n, result)
        result.latencies.append(loop.time() - due)

    result.started = time.time()
    for n in itertools.islice(itertools.count(), total):
        due = t0 + n / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= OPEN_LOOP_MAX_IN_FLIGHT:
            result.errors += 1
            result.first_error = result.first_error or "client overloaded: too many calls in flight"
            continue
        task = asyncio.create_task(call(n, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight)
    result.finished = time.time()
    result.latencies.sort()
    return result
