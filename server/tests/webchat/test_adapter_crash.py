"""kill -9 the Web Chat adapter process while agents send: the plugin host restarts it, the
delivery workers retry, and the visitor's socket shows every message, once, in order."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from lktest.webchat_site import WebchatSite

from linktor.server.plugins.host import PluginHost
from linktor.v1 import common_pb2

pytestmark = pytest.mark.integration

MESSAGES = 60


# The plugin host and the restart are the same on both backends; the scaled pipeline's own
# crash recovery (bus, database) is covered by the messaging tests.
@pytest.mark.parametrize("backend", ["embedded"])
@pytest.mark.timeout(300)
async def test_kill_9_of_the_adapter_during_sends_loses_nothing(site: WebchatSite) -> None:
    visitor = await asyncio.to_thread(site.visitor)
    await visitor.connect()
    await visitor.say("hello", "hi, anyone there?")
    conversation = (await visitor.next("message"))["message"].split("/messages/")[0]
    host = site.container.adapters
    assert isinstance(host, PluginHost)
    first = await host.acquire(common_pb2.CHANNEL_TYPE_WEBCHAT)
    pid = first.pid
    assert pid is not None

    async def agent() -> list[str]:
        names = []
        for i in range(MESSAGES):
            names.append(await site.agent_says(conversation, f"reply {i}"))
            if i == MESSAGES // 3:
                os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.02)
        return names

    sending = asyncio.create_task(agent())
    seen: list[str] = []
    async with asyncio.timeout(120):
        while len(seen) < MESSAGES:
            frame = await visitor.next("message", timeout=120)
            if frame["from"] == "agent":
                seen.append(frame["message"])
    names = await sending
    assert seen == names  # every message, once, in the order accepted
    again = await host.acquire(common_pb2.CHANNEL_TYPE_WEBCHAT)
    assert again.pid != pid  # a new process
    for name in names:
        stored = await site.message(name)
        assert stored is not None and stored.status.value in ("SENT", "DELIVERED", "READ")
    await visitor.close()
