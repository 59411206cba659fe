"""Event fan-out latency: 100 open StreamEvents streams, events made by webhooks and sends.

Each stream is a real gRPC server stream (live only: after_sequence 0) spread over a few
HTTP/2 connections of this process. For every event arriving on every stream the benchmark
keeps ``arrival - event.create_time`` (the server stamps create_time when the use case records
the event; same machine, same clock), and for inbound messages also the time from the webhook
POST to the arrival of its message.created. The client's own decoding on the same two cores
is part of the figure, as it would be for an agent's UI.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import grpc

from bench.inbound.load import Webhook, open_loop, percentile
from linktor.v1 import content_pb2, event_pb2, event_pb2_grpc, message_pb2, message_pb2_grpc

CONNECTIONS = 4
STREAM_TIMEOUT_SECONDS = 600.0


@dataclass
class Arrivals:
    # arrival - create_time of every (event, stream) pair, seconds.
    lags: list[float] = field(default_factory=list)
    # text body of an inbound message -> arrival times on the streams.
    inbound: dict[str, list[float]] = field(default_factory=dict)
    per_stream: list[int] = field(default_factory=list)


async def _read(
    stream: grpc.aio.UnaryStreamCall[event_pb2.StreamEventsRequest, event_pb2.Event],
    index: int,
    arrivals: Arrivals,
) -> None:
    try:
        async for event in stream:
            now = time.time()
            created = event.create_time.seconds + event.create_time.nanos / 1e9
            arrivals.lags.append(now - created)
            arrivals.per_stream[index] += 1
            if event.type == "message.created" and event.message.direction == 1:
                arrivals.inbound.setdefault(event.message.content.text.body, []).append(now)
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.CANCELLED:
            raise


async def measure_fanout(
    target: str,
    metadata: tuple[tuple[str, str], ...],
    tenant: str,
    channel: str,
    webhook_url: str,
    inbound: list[Webhook],
    *,
    streams: int,
    sends: int,
    rate: float,
) -> dict[str, object]:
    rpcs = [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(CONNECTIONS)
    ]
    arrivals = Arrivals(per_stream=[0] * streams)
    calls = [
        event_pb2_grpc.EventServiceStub(rpcs[i % CONNECTIONS]).StreamEvents(
            event_pb2.StreamEventsRequest(parent=tenant, after_sequence=0),
            metadata=metadata,
            timeout=STREAM_TIMEOUT_SECONDS,
        )
        for i in range(streams)
    ]
    readers = [asyncio.create_task(_read(call, i, arrivals)) for i, call in enumerate(calls)]
    try:
        # Streams send no headers before their first event, so there is nothing to wait on:
        # give every stream time to subscribe to the live fan-out.
        await asyncio.sleep(3.0)
        messages = message_pb2_grpc.MessageServiceStub(rpcs[0])
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for n in range(sends):
            await asyncio.sleep(max(0.0, t0 + n / rate - loop.time()))
            await messages.SendMessage(
                message_pb2.SendMessageRequest(
                    recipient=message_pb2.Recipient(channel=channel, address=f"+1556{n % 50:07d}"),
                    content=content_pb2.MessageContent(
                        text=content_pb2.TextContent(body=f"fan-out {n}")
                    ),
                ),
                metadata=metadata,
                timeout=30,
            )
        load = await open_loop(webhook_url, inbound, rate, connections=4)
        await asyncio.sleep(3.0)  # the last events reach every stream
    finally:
        for call in calls:
            call.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for rpc in rpcs:
            await rpc.close(None)
    lags = sorted(arrivals.lags)
    webhook_lags = sorted(
        arrival - load.sent_at[w.key]
        for w in inbound
        if w.key in load.sent_at
        for arrival in arrivals.inbound.get(w.key, [])
    )
    return {
        "streams": streams,
        "events_per_stream_min": min(arrivals.per_stream),
        "events_per_stream_max": max(arrivals.per_stream),
        "deliveries": len(lags),
        "create_to_stream_p50_ms": round(percentile(lags, 0.5) * 1000, 2),
        "create_to_stream_p99_ms": round(percentile(lags, 0.99) * 1000, 2),
        "create_to_stream_max_ms": round((lags[-1] if lags else 0.0) * 1000, 2),
        "webhook_to_stream_p50_ms": round(percentile(webhook_lags, 0.5) * 1000, 2),
        "webhook_to_stream_p99_ms": round(percentile(webhook_lags, 0.99) * 1000, 2),
        "sends": sends,
        "inbound_webhooks": len(inbound),
        "rate_per_second": rate,
    }
