"""Fixtures of the WhatsApp adapter tests.

``adapter``: ONE adapter process for the session, started through the real go-plugin
handshake (``python -m linktor.adapters.whatsapp``), as the plugin host starts it.
``fake``: the fake Graph API, served once on a free loopback port and reset for every test;
the adapter reaches it because every call carries a channel configuration whose
graph_base_url points there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from wa_support import ADAPTER_COMMAND
from whatsapp_fake_graph import FakeGraphApi

from linktor.adapterkit.launcher import PluginLog, PluginProcess
from linktor.adapterkit.testing import launch_adapter


@pytest_asyncio.fixture(scope="session")
async def adapter_logs() -> list[PluginLog]:
    return []


@pytest_asyncio.fixture(scope="session")
async def adapter(adapter_logs: list[PluginLog]) -> AsyncIterator[PluginProcess]:
    async with launch_adapter(ADAPTER_COMMAND, logs=adapter_logs) as plugin:
        yield plugin


@pytest_asyncio.fixture(scope="session")
async def served_fake() -> AsyncIterator[FakeGraphApi]:
    graph = FakeGraphApi()
    async with graph.serve():
        yield graph


@pytest_asyncio.fixture
async def fake(served_fake: FakeGraphApi) -> FakeGraphApi:
    await served_fake.drain()
    served_fake.reset()
    return served_fake
