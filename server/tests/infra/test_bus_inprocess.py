"""What only the in-process bus has: bounded memory and max_age handled in this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from infra.support import Recorder, wait_until

from linktor.server.infra.bus.factory import create_bus
from linktor.server.infra.bus.inprocess import InProcessBus
from linktor.server.infra.bus.port import BusError, Delivery, StreamSpec

pytestmark = pytest.mark.unit

WORK = StreamSpec("WORK", ("work.>",))
LOG = StreamSpec("LOG", ("log.>",), work_queue=False, max_age_seconds=0.3)


@pytest_asyncio.fixture
async def small_bus() -> AsyncIterator[InProcessBus]:
    bus = InProcessBus(
        streams=(WORK, LOG), max_stream_messages=5, max_dedupe_ids=3, max_queued_broadcasts=2
    )
    await bus.start()
    yield bus
    await bus.close()


async def test_a_full_work_queue_refuses_publishes_until_work_is_done(
    small_bus: InProcessBus,
) -> None:
    for i in range(5):
        await small_bus.publish("work.x", str(i).encode())
    with pytest.raises(BusError, match="is full"):
        await small_bus.publish("work.x", b"overflow")
    recorder = Recorder()
    await small_bus.consume("work.x", "w", recorder.handler)
    await wait_until(lambda: len(recorder.seen) == 5, what="the backlog")
    await asyncio.sleep(0.05)  # the acks land after the handlers return
    assert await small_bus.publish("work.x", b"room again")


async def test_a_full_log_stream_drops_its_oldest_messages(small_bus: InProcessBus) -> None:
    for i in range(8):
        await small_bus.publish("log.x", str(i).encode())
    recorder = Recorder()
    await small_bus.consume("log.>", "reader", recorder.handler)
    await wait_until(lambda: len(recorder.seen) == 5, what="the five kept")
    assert recorder.data == [b"3", b"4", b"5", b"6", b"7"]


async def test_log_messages_older_than_max_age_are_dropped(small_bus: InProcessBus) -> None:
    await small_bus.publish("log.x", b"old")
    await asyncio.sleep(0.4)
    await small_bus.publish("log.x", b"new")
    recorder = Recorder()
    await small_bus.consume("log.>", "reader", recorder.handler)
    await wait_until(lambda: len(recorder.seen) == 1, what="the fresh message")
    await asyncio.sleep(0.1)
    assert recorder.data == [b"new"]


async def test_the_dedupe_memory_is_bounded(small_bus: InProcessBus) -> None:
    for msg_id in ("a", "b", "c", "d"):  # remembers 3: "a" is forgotten
        assert await small_bus.publish("log.x", b"x", msg_id=msg_id)
    assert await small_bus.publish("log.x", b"x", msg_id="d") is False
    assert await small_bus.publish("log.x", b"x", msg_id="a") is True


async def test_a_slow_listener_drops_what_it_cannot_queue(small_bus: InProcessBus) -> None:
    busy, release = asyncio.Event(), asyncio.Event()
    got: list[bytes] = []

    async def slow(subject: str, data: bytes) -> None:
        busy.set()
        await release.wait()
        got.append(data)

    await small_bus.listen("rt.>", slow)
    await small_bus.broadcast("rt.x", b"0")
    await asyncio.wait_for(busy.wait(), 2)
    for i in range(1, 10):
        await small_bus.broadcast("rt.x", str(i).encode())  # never blocks the sender
    release.set()
    await wait_until(lambda: len(got) == 3, what="the handled and the queued")
    await asyncio.sleep(0.05)
    assert got == [b"0", b"1", b"2"]  # one in the handler, two queued, the rest dropped


async def test_a_handler_stuck_past_the_drain_timeout_is_cancelled_on_close() -> None:
    bus = InProcessBus(streams=(WORK,), drain_timeout_seconds=0.2)
    await bus.start()
    cancelled = asyncio.Event()

    async def stuck(delivery: Delivery) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await bus.consume("work.>", "stuck", stuck)
    await bus.publish("work.x", b"x")
    await asyncio.sleep(0.05)
    await asyncio.wait_for(bus.close(), 2)
    assert cancelled.is_set()


def test_the_factory_defaults_to_the_in_process_bus() -> None:
    assert isinstance(create_bus(None), InProcessBus)
    assert isinstance(create_bus(""), InProcessBus)
