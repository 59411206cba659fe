"""Group commit: many concurrent callers, one database round trip.

Callers ``submit`` an item and await its result; the batcher runs ``handle`` on everything
submitted while the previous batch was in flight (up to ``max_size``), so under load batches
grow by themselves and when idle an item waits for nobody. ``handle`` returns one result per
item, in order; if it raises, every caller of that batch gets the exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(
        self, handle: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_size: int = 200
    ) -> None:
        self._handle = handle
        self._max_size = max_size
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        # Let the callers that are ready in this loop iteration join the first batch.
        await asyncio.sleep(0)
        while self._queue:
            batch, self._queue = self._queue[: self._max_size], self._queue[self._max_size :]
            try:
                results = await self._handle([item for item, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
