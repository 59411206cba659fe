"""The EventBus contract, checked with the same test bodies on the in-process bus (embedded)
and on NATS JetStream (scaled)."""

from __future__ import annotations

import asyncio
import time

import pytest
from infra.support import BusFactory, Recorder, StreamSet, wait_until

from linktor.server.infra.bus.port import BusError, Delivery, EventBus

# How long "nothing more arrives" is watched for: longer than any redelivery delay used below.
QUIET = 0.6


# ------------------------------------------------------------------ publish and dedupe


async def test_duplicate_msg_id_is_refused_and_stored_once(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "dedupe")
    assert await bus.publish(subject, b"first", msg_id="m-1") is True
    assert await bus.publish(subject, b"second", msg_id="m-1") is False
    assert await bus.publish(subject, b"other", msg_id="m-2") is True

    recorder = Recorder()
    await bus.consume(subject, "dedupe", recorder.handler)
    await wait_until(lambda: len(recorder.seen) == 2, what="two messages")
    await asyncio.sleep(QUIET)
    assert sorted(recorder.data) == [b"first", b"other"]


async def test_msg_id_is_accepted_again_after_the_duplicate_window(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("short", "x")  # duplicate window: 1 s
    assert await bus.publish(subject, b"a", msg_id="again") is True
    assert await bus.publish(subject, b"a", msg_id="again") is False
    await asyncio.sleep(1.3)
    assert await bus.publish(subject, b"a", msg_id="again") is True


async def test_messages_without_msg_id_are_never_deduplicated(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "plain")
    assert await bus.publish(subject, b"same") is True
    assert await bus.publish(subject, b"same") is True
    recorder = Recorder()
    await bus.consume(subject, "plain", recorder.handler)
    await wait_until(lambda: len(recorder.seen) == 2, what="both copies")


async def test_delivery_carries_subject_data_msg_id_and_headers(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "shape")
    await bus.publish(subject, b"\x00\xffbody", msg_id="id-1", headers={"Tenant": "t-1"})
    recorder = Recorder()
    await bus.consume(subject, "shape", recorder.handler)
    await wait_until(lambda: len(recorder.seen) == 1, what="the message")
    seen = recorder.seen[0]
    assert (seen.subject, seen.data, seen.msg_id, seen.attempt) == (
        subject,
        b"\x00\xffbody",
        "id-1",
        1,
    )
    assert seen.headers == {"Tenant": "t-1"}


@pytest.mark.parametrize(
    "subject",
    ["nowhere.at.all", "{p}.work.*", "{p}.work.>", "{p}..work", "{p}.work.has space", ""],
)
async def test_publish_outside_any_stream_or_to_a_pattern_raises(
    bus: EventBus, streams: StreamSet, subject: str
) -> None:
    with pytest.raises(BusError):
        await bus.publish(subject.replace("{p}", streams.prefix), b"x")


async def test_consume_outside_any_stream_raises(bus: EventBus, streams: StreamSet) -> None:
    recorder = Recorder()
    with pytest.raises(BusError, match="not inside one stream"):
        await bus.consume(streams.subject(">"), "everything", recorder.handler)
    with pytest.raises(BusError):
        await bus.consume("elsewhere.>", "elsewhere", recorder.handler)


async def test_a_message_published_before_any_consumer_waits_for_it(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "early")
    for i in range(5):
        await bus.publish(subject, str(i).encode())
    recorder = Recorder()
    await bus.consume(subject, "late", recorder.handler)
    await wait_until(lambda: len(recorder.seen) == 5, what="the five early messages")


# ------------------------------------------------------------------ competing consumers


async def test_consumers_sharing_a_durable_each_get_every_message_once(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "shared")
    first, second = Recorder(), Recorder()

    def slow(recorder: Recorder):  # type: ignore[no-untyped-def]
        async def handle(delivery: Delivery) -> None:
            recorder.record(delivery)
            await asyncio.sleep(0.02)

        return handle

    await bus.consume(subject, "workers", slow(first), max_in_flight=4)
    await bus.consume(subject, "workers", slow(second), max_in_flight=4)
    expected = {str(i).encode() for i in range(60)}
    for data in sorted(expected):
        await bus.publish(subject, data, msg_id=data.decode())
    await wait_until(
        lambda: len(first.seen) + len(second.seen) >= 60, within=20, what="60 deliveries"
    )
    await asyncio.sleep(QUIET)
    everything = first.data + second.data
    assert len(everything) == 60 and set(everything) == expected
    assert first.seen and second.seen, "both consumers should have shared the work"


async def test_work_queue_refuses_a_second_durable_on_overlapping_subjects(
    bus: EventBus, streams: StreamSet
) -> None:
    recorder = Recorder()
    await bus.consume(streams.subject("work", "*", "sms"), "sms", recorder.handler)
    with pytest.raises(BusError):
        await bus.consume(streams.subject("work", "a", ">"), "a-things", recorder.handler)
    # Disjoint subjects are fine.
    await bus.consume(streams.subject("work", "*", "email"), "email", recorder.handler)


async def test_log_stream_gives_every_durable_its_own_copy(
    bus: EventBus, streams: StreamSet
) -> None:
    webhooks, analytics = Recorder(), Recorder()
    await bus.consume(streams.subject("events", ">"), "webhooks", webhooks.handler)
    await bus.consume(streams.subject("events", ">"), "analytics", analytics.handler)
    await bus.publish(streams.subject("events", "t1", "message"), b"e1")
    await wait_until(lambda: len(webhooks.seen) == 1 and len(analytics.seen) == 1, what="copies")


# ------------------------------------------------------------------ redelivery


async def test_nak_with_delay_redelivers_after_the_delay(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "nak")
    recorder = Recorder()

    async def handler(delivery: Delivery) -> None:
        recorder.record(delivery)
        if delivery.attempt == 1:
            await delivery.nak(delay=0.5)

    await bus.consume(subject, "nak", handler, ack_wait_seconds=10)
    await bus.publish(subject, b"later")
    await wait_until(lambda: len(recorder.seen) == 2, within=5, what="the redelivery")
    first, second = recorder.seen
    assert second.attempt == 2 and second.data == b"later"
    assert 0.45 <= second.at - first.at < 3.0
    await asyncio.sleep(QUIET)
    assert len(recorder.seen) == 2  # acked on the second attempt


async def test_handler_exception_redelivers(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "boom")
    recorder = Recorder()

    async def handler(delivery: Delivery) -> None:
        recorder.record(delivery)
        if delivery.attempt < 3:
            raise RuntimeError("transient failure")

    await bus.consume(subject, "boom", handler, ack_wait_seconds=10)
    await bus.publish(subject, b"retry me", headers={"K": "v"})
    await wait_until(lambda: len(recorder.seen) == 3, within=5, what="three attempts")
    assert [entry.attempt for entry in recorder.seen] == [1, 2, 3]
    assert all(entry.headers == {"K": "v"} for entry in recorder.seen)
    await asyncio.sleep(QUIET)
    assert len(recorder.seen) == 3


async def test_unsettled_message_is_redelivered_after_ack_wait(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "stuck")
    recorder = Recorder()

    async def handler(delivery: Delivery) -> None:
        recorder.record(delivery)
        if delivery.attempt == 1:
            await asyncio.sleep(2.0)  # longer than ack_wait: the bus gives it to someone else

    await bus.consume(subject, "stuck", handler, ack_wait_seconds=1, max_in_flight=2)
    await bus.publish(subject, b"slow")
    await wait_until(lambda: len(recorder.seen) == 2, within=5, what="the redelivery")
    first, second = recorder.seen
    assert second.attempt == 2
    assert 0.9 <= second.at - first.at < 2.0


async def test_in_progress_extends_the_ack_deadline(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "long")
    recorder = Recorder()
    finished = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        recorder.record(delivery)
        for _ in range(5):  # 1.5 s of work with a 1 s ack_wait
            await asyncio.sleep(0.3)
            await delivery.in_progress()
        await delivery.ack()
        finished.set()

    await bus.consume(subject, "long", handler, ack_wait_seconds=1, max_in_flight=2)
    await bus.publish(subject, b"long job")
    await asyncio.wait_for(finished.wait(), 5)
    await asyncio.sleep(1.2)
    assert [entry.attempt for entry in recorder.seen] == [1]


async def test_term_is_never_redelivered(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "poison")
    recorder = Recorder()

    async def handler(delivery: Delivery) -> None:
        recorder.record(delivery)
        if delivery.data == b"poison":
            await delivery.term()

    await bus.consume(subject, "poison", handler, ack_wait_seconds=0.5)
    await bus.publish(subject, b"poison")
    await bus.publish(subject, b"fine")
    await wait_until(lambda: len(recorder.seen) == 2, what="both messages")
    await asyncio.sleep(1.0)  # two ack_waits
    assert sorted(recorder.data) == [b"fine", b"poison"]


async def test_max_deliver_stops_redelivery(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "limited")
    recorder = Recorder()

    async def handler(delivery: Delivery) -> None:
        recorder.record(delivery)
        await delivery.nak()

    await bus.consume(subject, "limited", handler, max_deliver=3, ack_wait_seconds=0.5)
    await bus.publish(subject, b"doomed")
    await wait_until(lambda: len(recorder.seen) == 3, what="three deliveries")
    await asyncio.sleep(1.2)  # more than two ack_waits: nothing more may come
    assert recorder.attempts_of(b"doomed") == [1, 2, 3]


async def test_settling_twice_is_harmless(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "twice")
    recorder = Recorder()

    async def handler(delivery: Delivery) -> None:
        recorder.record(delivery)
        await delivery.ack()
        await delivery.nak()  # ignored: already settled
        await delivery.term()

    await bus.consume(subject, "twice", handler, ack_wait_seconds=0.5)
    await bus.publish(subject, b"once")
    await wait_until(lambda: len(recorder.seen) == 1, what="the message")
    await asyncio.sleep(1.0)
    assert len(recorder.seen) == 1


# ------------------------------------------------------------------ ordering and flow


async def test_single_consumer_with_max_in_flight_1_keeps_subject_order(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "conversation", "c1")
    acked: list[bytes] = []

    async def handler(delivery: Delivery) -> None:
        # A nak (retryable provider error) must hold back the later messages, not skip them.
        if delivery.data == b"07" and delivery.attempt == 1:
            await delivery.nak(delay=0.2)
            return
        await delivery.ack()
        acked.append(delivery.data)

    expected = [f"{i:02d}".encode() for i in range(30)]
    for data in expected:
        await bus.publish(subject, data)
    await bus.consume(subject, "ordered", handler, max_in_flight=1)
    await wait_until(lambda: len(acked) == 30, within=15, what="all 30 in order")
    assert acked == expected


async def test_max_in_flight_bounds_concurrent_handlers(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "bounded")
    running = 0
    peak = 0
    done = 0

    async def handler(delivery: Delivery) -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        done += 1

    for i in range(20):
        await bus.publish(subject, str(i).encode())
    await bus.consume(subject, "bounded", handler, max_in_flight=3)
    await wait_until(lambda: done == 20, within=10, what="20 handled")
    assert peak == 3


# ------------------------------------------------------------------ subjects and wildcards


async def test_wildcards_select_subjects_like_nats(bus: EventBus, streams: StreamSet) -> None:
    one_token, rest = Recorder(), Recorder()
    await bus.consume(streams.subject("events", "*", "created"), "one-token", one_token.handler)
    await bus.consume(streams.subject("events", "t1", ">"), "rest", rest.handler)
    for tokens in (
        ("t1", "created"),
        ("t2", "created"),
        ("t1", "deleted"),
        ("t1", "a", "created"),
        ("t1",),
    ):
        await bus.publish(streams.subject("events", *tokens), ".".join(tokens).encode())
    await wait_until(lambda: len(one_token.seen) == 2 and len(rest.seen) == 3, what="matches")
    await asyncio.sleep(QUIET)
    assert sorted(one_token.data) == [b"t1.created", b"t2.created"]
    assert sorted(rest.data) == [b"t1.a.created", b"t1.created", b"t1.deleted"]


async def test_durable_names_need_not_be_valid_jetstream_names(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "named")
    recorder = Recorder()
    await bus.consume(subject, "outbound.whatsapp workers/1", recorder.handler)
    await bus.publish(subject, b"x")
    await wait_until(lambda: len(recorder.seen) == 1, what="the message")


# ------------------------------------------------------------------ broadcast


async def test_broadcast_reaches_every_matching_listener(bus: EventBus, streams: StreamSet) -> None:
    got: dict[str, list[tuple[str, bytes]]] = {"all": [], "typing": [], "other": []}

    def listener(name: str):  # type: ignore[no-untyped-def]
        async def handle(subject: str, data: bytes) -> None:
            got[name].append((subject, data))

        return handle

    await bus.listen(streams.subject("rt", "t1", ">"), listener("all"))
    await bus.listen(streams.subject("rt", "*", "typing"), listener("typing"))
    await bus.listen(streams.subject("rt", "t2", ">"), listener("other"))
    await bus.broadcast(streams.subject("rt", "t1", "typing"), b"...")
    await bus.broadcast(streams.subject("rt", "t1", "message", "new"), b"hi")
    await wait_until(lambda: len(got["all"]) == 2 and len(got["typing"]) == 1, what="fan-out")
    await asyncio.sleep(0.2)
    assert got["all"] == [
        (streams.subject("rt", "t1", "typing"), b"..."),
        (streams.subject("rt", "t1", "message", "new"), b"hi"),
    ]
    assert got["typing"] == [(streams.subject("rt", "t1", "typing"), b"...")]
    assert got["other"] == []


async def test_a_stopped_listener_receives_nothing(bus: EventBus, streams: StreamSet) -> None:
    got: list[bytes] = []

    async def handle(subject: str, data: bytes) -> None:
        got.append(data)

    subscription = await bus.listen(streams.subject("rt", ">"), handle)
    await bus.broadcast(streams.subject("rt", "x"), b"1")
    await wait_until(lambda: got == [b"1"], what="the first broadcast")
    await subscription.stop()
    await bus.broadcast(streams.subject("rt", "x"), b"2")
    await asyncio.sleep(0.2)
    assert got == [b"1"]


async def test_a_failing_listener_keeps_listening(bus: EventBus, streams: StreamSet) -> None:
    got: list[bytes] = []

    async def handle(subject: str, data: bytes) -> None:
        got.append(data)
        raise RuntimeError("listener bug")

    await bus.listen(streams.subject("rt", ">"), handle)
    await bus.broadcast(streams.subject("rt", "x"), b"1")
    await bus.broadcast(streams.subject("rt", "x"), b"2")
    await wait_until(lambda: got == [b"1", b"2"], what="both broadcasts")


# ------------------------------------------------------------------ lifecycle


async def test_start_twice_is_harmless(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "restart")
    assert await bus.publish(subject, b"before", msg_id="k") is True
    await bus.start()  # streams already exist: kept, not recreated
    assert await bus.publish(subject, b"before", msg_id="k") is False
    recorder = Recorder()
    await bus.consume(subject, "restart", recorder.handler)
    await wait_until(lambda: recorder.data == [b"before"], what="the message stored before")


async def test_using_a_bus_before_start_raises(backend: str, streams: StreamSet) -> None:
    from linktor.server.infra.bus.inprocess import InProcessBus
    from linktor.server.infra.bus.nats import NatsJetStreamBus

    cold: EventBus = (
        NatsJetStreamBus("nats://127.0.0.1:1", streams=streams.specs)
        if backend == "scaled"
        else InProcessBus(streams=streams.specs)
    )
    with pytest.raises(BusError, match="not started"):
        await cold.publish(streams.subject("work", "x"), b"x")
    with pytest.raises(BusError, match="not started"):
        await cold.ping()


async def test_ping_succeeds_on_a_running_bus(bus: EventBus) -> None:
    await bus.ping()


async def test_ping_fails_when_the_bus_is_down(unreachable_bus: EventBus) -> None:
    started = time.monotonic()
    with pytest.raises(BusError):
        await unreachable_bus.ping()
    assert time.monotonic() - started < 5


async def test_stop_waits_for_in_flight_handlers(bus: EventBus, streams: StreamSet) -> None:
    subject = streams.subject("work", "inflight")
    started, finished = asyncio.Event(), asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        started.set()
        await asyncio.sleep(0.5)
        await delivery.ack()  # the connection must still be usable here
        finished.set()

    subscription = await bus.consume(subject, "inflight", handler)
    await bus.publish(subject, b"x")
    await asyncio.wait_for(started.wait(), 5)
    await subscription.stop()
    assert finished.is_set()


async def test_close_waits_for_in_flight_handlers(make_bus: BusFactory, streams: StreamSet) -> None:
    bus = await make_bus()
    subject = streams.subject("work", "closing")
    started, acked = asyncio.Event(), asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        started.set()
        await asyncio.sleep(0.5)
        await delivery.ack()
        acked.set()

    await bus.consume(subject, "closing", handler)
    await bus.publish(subject, b"x")
    await asyncio.wait_for(started.wait(), 5)
    await bus.close()
    assert acked.is_set()
    with pytest.raises(BusError):
        await bus.publish(subject, b"after close")
    with pytest.raises(BusError):
        await bus.ping()


async def test_a_stopped_consumer_leaves_the_rest_to_the_next(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "handover")
    first, second = Recorder(), Recorder()
    subscription = await bus.consume(subject, "handover", first.handler)
    await bus.publish(subject, b"1")
    await wait_until(lambda: first.data == [b"1"], what="the first message")
    await subscription.stop()
    await bus.publish(subject, b"2")
    await bus.consume(subject, "handover", second.handler)
    await wait_until(lambda: second.data == [b"2"], what="the second message")
    assert first.data == [b"1"]


async def test_messages_waiting_for_redelivery_do_not_hold_back_new_ones(
    bus: EventBus, streams: StreamSet
) -> None:
    subject = streams.subject("work", "outage")
    handled: list[bytes] = []

    async def handler(delivery: Delivery) -> None:
        if delivery.data.startswith(b"down") and delivery.attempt == 1:
            await delivery.nak(delay=5)  # its provider is down: try again later
            return
        handled.append(delivery.data)

    await bus.consume(subject, "outage", handler, max_in_flight=2)
    for data in (b"down-1", b"down-2", b"down-3", b"up"):
        await bus.publish(subject, data)
    await wait_until(lambda: handled == [b"up"], within=2, what="the healthy message")
