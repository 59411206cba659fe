"""Fixtures for the plugin host: a host launching the fake adapter, and what it observed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from lktest.adapters import FAKE_ADAPTER, FAST, WEBCHAT

from linktor.server.plugins.host import PluginHost
from linktor.server.plugins.state import AdapterStatus


@pytest.fixture
def provider_log(tmp_path: Path) -> Path:
    return tmp_path / "provider.jsonl"


@pytest_asyncio.fixture
async def host(provider_log: Path) -> AsyncIterator[PluginHost]:
    options = replace(FAST, env={"LINKTOR_FAKE_ADAPTER_LOG": str(provider_log)})
    plugin_host = PluginHost({WEBCHAT: FAKE_ADAPTER}, options=options, acquire_timeout=20)
    yield plugin_host
    await plugin_host.close()


@pytest.fixture
def observed(host: PluginHost) -> list[AdapterStatus]:
    seen: list[AdapterStatus] = []
    host.watch(seen.append)
    return seen
