"""Idempotency under concurrency over gRPC: 50 SendMessage calls at once with one request_id
create one message, all 50 answers name it, and the provider sees it once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from lktest.deployment import Deployment, StatusProbe, create_channel
from lktest.platform import provider_log
from lktest.sending import text_request, wait_until

from linktor.v1 import message_pb2_grpc

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

CALLS = 50


def test_fifty_concurrent_calls_with_one_request_id_create_one_message(
    fault_platform: Deployment,
) -> None:
    asyncio.run(_same_request_id(fault_platform))


async def _same_request_id(deploy: Deployment) -> None:
    channel = await create_channel(deploy)
    request = text_request(channel, "+15550001234", "only once", "same-request-id")
    async with grpc.aio.insecure_channel(deploy.grpc_target) as conn:
        stub = message_pb2_grpc.MessageServiceStub(conn)
        answers = await asyncio.gather(
            *(stub.SendMessage(request, metadata=deploy.metadata, timeout=60) for _ in range(CALLS))
        )
    names = {answer.name for answer in answers}
    assert len(names) == 1, names
    (name,) = names
    probe = StatusProbe(deploy.database_url)
    rows = await probe.rows(
        "SELECT id FROM messages WHERE channel_id = ? AND request_id = ?",
        channel.rsplit("/", 1)[-1],
        "same-request-id",
    )
    assert [r[0] for r in rows] == [name.rsplit("/", 1)[-1]]
    log = Path(deploy.env["LINKTOR_FAKE_ADAPTER_LOG"])

    def sends() -> list[dict[str, object]]:
        return [
            r for r in provider_log(log) if r.get("op") == "send" and r.get("channel") == channel
        ]

    await wait_until(sends, timeout=60)
    await asyncio.sleep(1)  # a second Send, if any, would show up by now
    assert [r["message_id"] for r in sends()] == [name]
