"""Webhook load: signed fake-provider webhooks over many keep-alive HTTP/1.1 connections.

Open loop: webhook ``n`` is DUE at ``t0 + n / rate`` whatever the server does, and its latency
is counted from when it was due to when its answer arrived, so a stalled server shows up in
the tail instead of slowing the load down (no coordinated omission). Requests wait for a free
connection in a queue; that wait is part of the latency, as it would be for a provider.

The client is a raw HTTP/1.1 client on asyncio streams with every request built (and signed)
before the clock starts, so that on two shared cores it costs the server as little CPU as
Python allows.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Requests waiting for a connection before the rest are counted as errors (a bound, so a dead
# server cannot make the generator queue without end).
MAX_QUEUED = 20_000
RESPONSE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Webhook:
    """One prepared request: its bytes, and a key naming what it carries (for the probes)."""

    key: str
    raw: bytes


@dataclass
class LoadResult:
    acknowledged: int = 0
    errors: int = 0
    first_error: str = ""
    statuses: dict[int, int] = field(default_factory=dict)
    # time.time() of the first due request and of the last answer.
    started: float = 0.0
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)
    # key -> time.time() of the answer (the acknowledgement), for ack-to-stored lags.
    acked_at: dict[str, float] = field(default_factory=dict)
    # key -> time.time() when the request was written.
    sent_at: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return max(self.finished - self.started, 1e-9)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def prepare(url: str, secret: str, key: str, events: list[dict[str, object]]) -> Webhook:
    parts = urlsplit(url)
    body = json.dumps({"events": events}, separators=(",", ":")).encode()
    head = (
        f"POST {parts.path} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        "Content-Type: application/json\r\n"
        f"X-Fake-Signature: {sign(secret, body)}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return Webhook(key, head.encode() + body)


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def open_loop(url: str, webhooks: list[Webhook], rate: float, connections: int) -> LoadResult:
    """Send ``webhooks`` at ``rate`` per second over ``connections`` keep-alive connections."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = LoadResult()
    queue: deque[tuple[int, float]] = deque()
    ready = asyncio.Event()
    done_scheduling = False
    loop = asyncio.get_running_loop()
    offset = time.time() - loop.time()  # loop clock -> wall clock

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                while not queue:
                    if done_scheduling:
                        return
                    ready.clear()
                    await ready.wait()
                n, due = queue.popleft()
                webhook = webhooks[n]
                try:
                    result.sent_at[webhook.key] = loop.time() + offset
                    writer.write(webhook.raw)
                    status = await asyncio.wait_for(
                        _read_response(reader), RESPONSE_TIMEOUT_SECONDS
                    )
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                    result.errors += 1
                    result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                now = loop.time()
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == 200:
                    result.acknowledged += 1
                    result.latencies.append(now - due)
                    result.acked_at[webhook.key] = now + offset
                else:
                    result.errors += 1
                    result.first_error = result.first_error or f"HTTP {status}"
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # let the connections open before the clock starts
    t0 = loop.time()
    result.started = t0 + offset
    for n in range(len(webhooks)):
        due = t0 + n / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(queue) >= MAX_QUEUED:
            result.errors += 1
            result.first_error = result.first_error or "client queue full: the server stalled"
            continue
        queue.append((n, due))
        ready.set()
    done_scheduling = True
    ready.set()
    await asyncio.gather(*workers)
    result.finished = time.time()
    result.latencies.sort()
    return result


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]
