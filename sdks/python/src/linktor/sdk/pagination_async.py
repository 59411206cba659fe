"""Pagination: a List call as an iterator over every item of every page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from google.protobuf.message import Message

from linktor.sdk._spec import MethodSpec

if TYPE_CHECKING:
    from linktor.sdk._transport_async import AsyncTransport

ItemT = TypeVar("ItemT", bound=Message)


class AsyncPager(Generic[ItemT]):
    """The result of a List call, fetched page by page as it is iterated.

    ``async for item in pager`` yields every item; ``pager.pages()`` yields the raw responses
    (with ``next_page_token``, to resume later with ``page_token=``); ``await
    pager.to_list(limit)`` collects. Nothing is fetched before the iteration starts, and
    each iteration starts again from the first page.
    """

    def __init__(
        self,
        transport: AsyncTransport,
        spec: MethodSpec[Any, Any],
        request: Message,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._spec = spec
        self._request = request
        self._timeout = timeout
        #: The next_page_token of the last page fetched ("" once the last page was read).
        self.next_page_token = ""

    async def pages(self) -> AsyncIterator[Any]:
        """Every response page, in order."""
        request = type(self._request)()
        request.CopyFrom(self._request)
        while True:
            page = await self._transport.call(self._spec, request, self._timeout)
            self.next_page_token = page.next_page_token
            yield page
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token  # type: ignore[attr-defined]

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in getattr(page, self._spec.items_field):
                yield cast(ItemT, item)

    async def to_list(self, limit: int | None = None) -> list[ItemT]:
        """Up to ``limit`` items (all when None), fetching only the pages needed."""
        items: list[ItemT] = []
        if limit is not None and limit <= 0:
            return items
        async for item in self:
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
        return items
