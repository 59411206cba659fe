"""What only the scaled bus can show: several replicas on one NATS, the streams it declares,
and surviving a nats-server restart mid-burst without losing a message."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
import pytest_asyncio
from infra.support import Recorder, StreamSet, wait_until
from lktest.services import SERVICES, free_port, require_service
from nats.js.api import RetentionPolicy, StorageType

from linktor.server.infra.bus.factory import create_bus
from linktor.server.infra.bus.inprocess import InProcessBus
from linktor.server.infra.bus.nats import NatsJetStreamBus
from linktor.server.infra.bus.port import BusError, Delivery, StreamSpec

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


@pytest_asyncio.fixture
async def replicas(streams: StreamSet) -> AsyncIterator[list[NatsJetStreamBus]]:
    """Two started buses on the same NATS and streams: two replicas of the platform."""
    require_service(SERVICES.nats_url, "NATS")
    buses = [
        NatsJetStreamBus(SERVICES.nats_url, streams=streams.specs, client_name=f"replica-{i}")
        for i in range(2)
    ]
    for bus in buses:
        await bus.start()
    yield buses
    for bus in buses:
        await bus.close()
    await _delete_streams(streams.specs)


async def _delete_streams(specs: tuple[StreamSpec, ...]) -> None:
    nc = await nats.connect(SERVICES.nats_url, max_reconnect_attempts=5)
    try:
        for spec in specs:
            try:
                await nc.jsm().delete_stream(spec.name)
            except nats.js.errors.NotFoundError:
                continue
    finally:
        await nc.close()


async def test_replicas_share_a_durable(
    replicas: list[NatsJetStreamBus], streams: StreamSet
) -> None:
    subject = streams.subject("work", "replicated")
    recorders = [Recorder(), Recorder()]
    for bus, recorder in zip(replicas, recorders, strict=True):

        async def handle(delivery: Delivery, recorder: Recorder = recorder) -> None:
            recorder.record(delivery)
            await asyncio.sleep(0.02)

        await bus.consume(subject, "delivery-workers", handle, max_in_flight=4)
    expected = {str(i).encode() for i in range(40)}
    for data in sorted(expected):
        await replicas[0].publish(subject, data, msg_id=data.decode())
    await wait_until(lambda: sum(len(r.seen) for r in recorders) >= 40, within=20, what="40")
    await asyncio.sleep(0.5)
    everything = recorders[0].data + recorders[1].data
    assert sorted(everything) == sorted(expected)
    assert recorders[0].seen and recorders[1].seen


async def test_msg_id_dedupe_spans_replicas(
    replicas: list[NatsJetStreamBus], streams: StreamSet
) -> None:
    subject = streams.subject("work", "relay")
    assert await replicas[0].publish(subject, b"m", msg_id="outbox-1") is True
    assert await replicas[1].publish(subject, b"m", msg_id="outbox-1") is False


async def test_broadcast_reaches_listeners_on_every_replica(
    replicas: list[NatsJetStreamBus], streams: StreamSet
) -> None:
    got: list[list[bytes]] = [[], []]
    for bus, inbox in zip(replicas, got, strict=True):

        async def handle(subject: str, data: bytes, inbox: list[bytes] = inbox) -> None:
            inbox.append(data)

        await bus.listen(streams.subject("rt", "t1", ">"), handle)
    await replicas[0].broadcast(streams.subject("rt", "t1", "typing"), b"typing")
    await wait_until(lambda: got == [[b"typing"], [b"typing"]], what="both replicas")


async def test_streams_are_declared_as_specified(
    replicas: list[NatsJetStreamBus], streams: StreamSet
) -> None:
    nc = await nats.connect(SERVICES.nats_url)
    try:
        work = (await nc.jsm().stream_info(streams.work.name)).config
        events = (await nc.jsm().stream_info(streams.events.name)).config
    finally:
        await nc.close()
    assert work.retention == RetentionPolicy.WORK_QUEUE
    assert work.storage == StorageType.FILE
    assert work.subjects == [streams.subject("work", ">")]
    assert work.duplicate_window == pytest.approx(120)
    assert events.retention == RetentionPolicy.LIMITS
    assert events.max_age == pytest.approx(300)
    assert events.duplicate_window == pytest.approx(60)


async def test_start_updates_a_stream_whose_spec_changed(
    replicas: list[NatsJetStreamBus], streams: StreamSet
) -> None:
    changed = StreamSpec(
        streams.work.name, streams.work.subjects, duplicate_window_seconds=30, work_queue=True
    )
    bus = NatsJetStreamBus(SERVICES.nats_url, streams=(changed,))
    try:
        await bus.start()
        await bus.start()
    finally:
        await bus.close()
    nc = await nats.connect(SERVICES.nats_url)
    try:
        config = (await nc.jsm().stream_info(streams.work.name)).config
    finally:
        await nc.close()
    assert config.duplicate_window == pytest.approx(30)


async def test_start_fails_fast_with_a_clear_error_when_nats_is_down(streams: StreamSet) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    bus = NatsJetStreamBus(url, streams=streams.specs, connect_timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(BusError, match=f"cannot connect to NATS at {url}"):
        await bus.start()
    assert time.monotonic() - started < 3
    await bus.close()


async def test_factory_picks_the_bus_from_the_url() -> None:
    assert isinstance(create_bus(None), InProcessBus)
    assert isinstance(create_bus(SERVICES.nats_url), NatsJetStreamBus)


# ------------------------------------------------------------------ nats-server restart

MESSAGES = 500


async def _restart_nats() -> None:
    process = await asyncio.create_subprocess_exec(
        str(REPO / "scripts" / "services.sh"),
        "restart-nats",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 0, output.decode()


async def test_nothing_is_lost_when_nats_restarts_mid_burst(
    replicas: list[NatsJetStreamBus], streams: StreamSet
) -> None:
    producer_bus, consumer_bus = replicas
    subject = streams.subject("work", "burst")
    expected = {f"msg-{i:03d}" for i in range(MESSAGES)}
    handled: collections.Counter[str] = collections.Counter()
    acked: collections.Counter[str] = collections.Counter()
    ack_unsure: set[str] = set()  # the ack raised: it may or may not have reached the server

    async def handler(delivery: Delivery) -> None:
        assert delivery.msg_id is not None
        handled[delivery.msg_id] += 1
        await asyncio.sleep(0.02)  # keep some messages in flight when the server goes away
        try:
            await delivery.ack()
        except BusError:
            ack_unsure.add(delivery.msg_id)
            raise
        acked[delivery.msg_id] += 1

    await consumer_bus.consume(subject, "burst", handler, max_in_flight=32, ack_wait_seconds=2)

    published = 0
    publish_errors = 0

    async def produce() -> None:
        nonlocal published, publish_errors
        for i in range(MESSAGES):
            msg_id = f"msg-{i:03d}"
            while True:  # what the outbox relay does: retry with the same msg_id until stored
                try:
                    await producer_bus.publish(subject, msg_id.encode(), msg_id=msg_id)
                    break
                except BusError:
                    publish_errors += 1
                    await asyncio.sleep(0.1)
            published += 1
            await asyncio.sleep(0.005)

    producer = asyncio.create_task(produce())
    await wait_until(lambda: published >= 150, within=30, what="150 published before restart")
    await _restart_nats()
    await asyncio.wait_for(producer, 60)

    async def stream_state() -> tuple[int, int]:
        info = await nc.jsm().stream_info(streams.work.name)
        return info.state.messages, info.state.last_seq

    nc = await nats.connect(SERVICES.nats_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            left, last_seq = await stream_state()
            if left == 0 and set(handled) == expected:
                break
            assert time.monotonic() < deadline, (
                f"{len(set(handled))}/{MESSAGES} handled, {left} still in the stream"
            )
            await asyncio.sleep(0.2)
    finally:
        await nc.close()

    assert set(handled) == expected, "a message was lost"
    assert last_seq == MESSAGES, "the stream stored a duplicate despite the msg_id"
    assert all(count == 1 for count in acked.values()), "a message was acknowledged twice"
    assert set(acked) | ack_unsure == expected
    # For the record (visible with -rP): how much the restart cost in retries.
    print(
        f"publish retries: {publish_errors}, redeliveries: {sum(handled.values()) - MESSAGES},"
        f" unsure acks: {len(ack_unsure)}"
    )


async def test_bus_recovers_when_the_server_loses_its_streams(streams: StreamSet) -> None:
    require_service(SERVICES.nats_url, "NATS")
    bus = NatsJetStreamBus(
        SERVICES.nats_url, streams=streams.specs, fetch_wait_seconds=0.5, consumer_check_seconds=1
    )
    await bus.start()
    try:
        subject = streams.subject("work", "amnesia")
        recorder = Recorder()
        await bus.consume(subject, "amnesia", recorder.handler)
        await bus.publish(subject, b"before")
        await wait_until(lambda: recorder.data == [b"before"], what="the first message")

        await _delete_streams(streams.specs)  # as if the server came back empty

        assert await bus.publish(subject, b"after") is True  # re-declares the stream
        await wait_until(lambda: recorder.data == [b"before", b"after"], what="recovery")
    finally:
        await bus.close()
        await _delete_streams(streams.specs)
