"""Running background work: in `linktor serve` beside the servers, or alone in
`linktor worker` (scale-out: any number of worker processes share the bus and database)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Sequence

from linktor.server.config import Settings
from linktor.server.logs import get_logger
from linktor.server.shared.background import Background

log = get_logger(__name__)


class BackgroundRunner:
    """Starts background items in order and stops them in reverse order."""

    def __init__(self, items: Sequence[Background]) -> None:
        self._items = list(items)
        self._started: list[Background] = []

    async def start(self) -> None:
        for item in self._items:
            await item.start()
            self._started.append(item)
        if self._started:
            log.info("background work started", items=[i.name for i in self._started])

    async def stop(self) -> None:
        while self._started:
            item = self._started.pop()
            started = time.monotonic()
            try:
                await item.stop()
            except Exception as exc:
                log.warning("background stop failed", item=item.name, error=str(exc))
            log.debug(
                "background stopped", item=item.name, ms=round((time.monotonic() - started) * 1000)
            )


async def run_workers(settings: Settings) -> None:
    """`linktor worker`: the relay, workers and sweepers of this process until SIGTERM."""
    from linktor.server.api.wiring import background
    from linktor.server.bootstrap import build_container

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    container = await build_container(settings)
    runner = BackgroundRunner(background(container))
    try:
        await runner.start()
        log.info("linktor worker ready")
        await stopping.wait()
    finally:
        started = time.monotonic()
        await runner.stop()
        await container.close()
        log.info("linktor worker stopped", shutdown_ms=round((time.monotonic() - started) * 1000))
