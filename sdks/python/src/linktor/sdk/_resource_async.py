"""The base of every resource of the asyncio client: keywords in, typed responses out."""

# `timeout` parameters are gRPC deadlines of each attempt, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from linktor.sdk._spec import MethodSpec, RequestT, ResponseT, build_request
from linktor.sdk._transport_async import AsyncTransport
from linktor.sdk.pagination_async import AsyncPager


class AsyncResource:
    """A group of RPCs (``client.messages``, ``client.contacts`` ...) on one transport."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def _call(
        self,
        spec: MethodSpec[RequestT, ResponseT],
        request: RequestT | None,
        timeout: float | None,
        fields: Mapping[str, Any],
    ) -> ResponseT:
        built = build_request(spec, request, fields)
        return await self._transport.call(spec, built, timeout)

    def _pager(
        self,
        spec: MethodSpec[RequestT, Any],
        request: RequestT | None,
        timeout: float | None,
        fields: Mapping[str, Any],
    ) -> AsyncPager[Any]:
        built = build_request(spec, request, fields)
        return AsyncPager(self._transport, spec, built, timeout)

    def _stream(
        self, spec: MethodSpec[RequestT, Any], request: RequestT | None, fields: Mapping[str, Any]
    ) -> AsyncIterator[Any]:
        raise NotImplementedError(f"{spec.rpc}: overridden by the hand-written resource")
