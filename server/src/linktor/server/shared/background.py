"""Background work a process runs besides its servers (workers, relays, sweepers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol


class Background(Protocol):
    """Something started with the process and stopped (gracefully) with it."""

    @property
    def name(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Loop:
    """A ``run(stopping)`` coroutine function as a Background."""

    def __init__(
        self, name: str, run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]
    ) -> None:
        self.name = name
        self._run = run
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(self._stopping), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task


class Service:
    """Adapts an object with start()/stop() (a worker) to Background."""

    def __init__(
        self, name: str, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
    ) -> None:
        self.name = name
        self._start = start
        self._stop = stop

    async def start(self) -> None:
        await self._start()

    async def stop(self) -> None:
        await self._stop()
