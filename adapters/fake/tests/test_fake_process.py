"""The fake adapter as a process: the real handshake, crashes, and the shared record."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
import pytest

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.launcher import LaunchOptions, launch
from linktor.adapterkit.testing import channel_config, text_message
from linktor.adapters.fake.adapter import CRASH_EXIT_CODE
from linktor.adapters.fake.recorder import read_records
from linktor.v1 import common_pb2

pytestmark = pytest.mark.integration

COMMAND = [sys.executable, "-m", "linktor.adapters.fake"]


def send(message_id: str, body: str = "hi") -> adapter_pb2.SendRequest:
    return adapter_pb2.SendRequest(
        channel=channel_config(common_pb2.CHANNEL_TYPE_WEBCHAT, {}, {"webhook_secret": "s"}),
        message_id=message_id,
        recipient="v1",
        content=text_message(body),
        attempt=1,
    )


async def test_crash_after_n_sends_exits_the_process(tmp_path: Path) -> None:
    log = tmp_path / "seen.jsonl"
    plugin = await launch(
        COMMAND,
        LaunchOptions(
            env={"LINKTOR_FAKE_CRASH_AFTER_SENDS": "3", "LINKTOR_FAKE_ADAPTER_LOG": str(log)}
        ),
    )
    try:
        for i in (1, 2):
            assert (await plugin.stub.Send(send(f"m{i}"), timeout=5)).provider_message_id
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await plugin.stub.Send(send("m3"), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert await plugin.wait() == CRASH_EXIT_CODE
    finally:
        await plugin.stop()
    assert [r["message_id"] for r in read_records(str(log))] == ["m1", "m2"]


async def test_crash_after_send_records_then_dies(tmp_path: Path) -> None:
    log = tmp_path / "seen.jsonl"
    plugin = await launch(COMMAND, LaunchOptions(env={"LINKTOR_FAKE_ADAPTER_LOG": str(log)}))
    try:
        with pytest.raises(grpc.aio.AioRpcError):
            await plugin.stub.Send(send("m1", "[[fake:crash-after-send]]"), timeout=5)
        assert await plugin.wait() == CRASH_EXIT_CODE
    finally:
        await plugin.stop()
    assert [(r["message_id"], r["outcome"]) for r in read_records(str(log))] == [("m1", "sent")]
