"""Channel state follows a real adapter process: kill -9 the fake adapter the plugin host
launched; its channels show DEGRADED with the reason while it restarts, ACTIVE after."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from lktest.adapters import FAKE_ADAPTER, FAST
from lktest.channels import WEBCHAT, start_channel_server
from lktest.identity import bearer, settings_for
from lktest.services import ServiceUrls
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.cache.factory import create_rate_limiter
from linktor.server.plugins.host import PluginHost
from linktor.v1 import channel_pb2

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], object], timeout: float = 20.0) -> None:  # noqa: ASYNC109 - a polling deadline
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("condition not met in time")


async def test_kill_9_shows_degraded_then_active(
    backend: str, engine: AsyncEngine, services: ServiceUrls, tmp_path: Path
) -> None:
    host = PluginHost({WEBCHAT: FAKE_ADAPTER}, options=FAST, acquire_timeout=20)
    limiter = create_rate_limiter(services.redis_url if backend == "scaled" else None)
    try:
        async with start_channel_server(
            engine, settings_for(tmp_path), limiter, provider=host
        ) as chs:
            host.watch(chs.channels.health.adapter_changed)
            tenant = await chs.ids.tenant()
            md = bearer(tenant.api_key)
            made = await chs.stub.CreateChannel(
                channel_pb2.CreateChannelRequest(
                    parent=tenant.name,
                    channel=channel_pb2.Channel(
                        display_name="Chat", type=WEBCHAT, secrets={"webhook_secret": "s"}
                    ),
                ),
                metadata=md,
            )
            assert made.capabilities.max_text_length == 4096  # declared by the real process
            first = await host.acquire(WEBCHAT)
            assert first.pid is not None

            async def state() -> channel_pb2.Channel:
                return await chs.stub.GetChannel(
                    channel_pb2.GetChannelRequest(name=made.name), metadata=md
                )

            os.kill(first.pid, signal.SIGKILL)
            degraded: list[channel_pb2.Channel] = []

            async def is_degraded() -> bool:
                got = await state()
                if got.state == channel_pb2.CHANNEL_STATE_DEGRADED:
                    degraded.append(got)
                return bool(degraded)

            await eventually(is_degraded)
            assert "WEBCHAT adapter is restarting" in degraded[0].state_reason
            assert "exited" in degraded[0].state_reason
            await eventually(lambda: _is_active(state()))
            assert (await host.acquire(WEBCHAT)).pid != first.pid
    finally:
        await host.close()
        close = getattr(limiter, "close", None)
        if close is not None:
            await close()


async def _is_active(pending: object) -> bool:
    got = await pending  # type: ignore[misc]
    return bool(got.state == channel_pb2.CHANNEL_STATE_ACTIVE and not got.state_reason)
