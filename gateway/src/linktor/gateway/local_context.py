"""An in-process grpc.aio.ServicerContext: what a servicer sees when REST calls it directly.

Only what servicers and server interceptors use is implemented: metadata in and out,
peer, deadline, abort / abort_with_status, set_code / set_details, and ``write`` for
servers that stream by writing instead of yielding.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import grpc

from linktor.gateway.invoker import CallContext
from linktor.gateway.status import Metadata, RpcFailure, status_from_metadata


class AbortError(grpc.aio.AbortError):
    """Raised by ``abort``; carries the final status (as grpc.aio does internally).

    A grpc.aio.AbortError, so that interceptors written for a real server, which let aborts
    through (``except grpc.aio.AbortError: raise``) and map anything else to INTERNAL, treat
    an in-process abort the same way.
    """

    def __init__(self, failure: RpcFailure) -> None:
        super().__init__(failure.status.message)
        self.failure = failure


def _code_value(code: grpc.StatusCode) -> int:
    return int(code.value[0])


class LocalContext:
    def __init__(self, method: str, call: CallContext) -> None:
        self.method = method
        self._call = call
        self._deadline = time.monotonic() + call.timeout if call.timeout is not None else None
        self._code: grpc.StatusCode | None = None
        self._details = ""
        self.initial_metadata: Metadata = ()
        self._trailing: Metadata = ()
        self.queue: asyncio.Queue[Any] | None = None

    # -- what the servicer reads
    def invocation_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return tuple(self._call.metadata)

    def peer(self) -> str:
        """The client's address in grpc's form (``ipv4:1.2.3.4:0``, ``ipv6:[::1]:0``)."""
        host = self._call.peer
        if not host:
            return "local"
        return f"ipv6:[{host}]:0" if ":" in host else f"ipv4:{host}:0"

    def peer_identities(self) -> None:
        return None

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return False

    # -- what the servicer sets
    async def send_initial_metadata(self, metadata: Metadata) -> None:
        self.initial_metadata = tuple(metadata)

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        self._trailing = tuple(metadata)

    def trailing_metadata(self) -> Metadata:
        return self._trailing

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def set_details(self, details: str) -> None:
        self._details = details

    def details(self) -> str:
        return self._details

    def set_compression(self, compression: Any) -> None:
        pass

    def disable_next_message_compression(self) -> None:
        pass

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Sequence[tuple[str, str | bytes]] = (),
    ) -> NoReturn:
        trailing = tuple(trailing_metadata) or self._trailing
        status = status_from_metadata(_code_value(code), details, trailing)
        raise AbortError(RpcFailure(status, trailing))

    async def abort_with_status(self, status: Any) -> NoReturn:
        await self.abort(status.code, status.details, status.trailing_metadata)

    async def write(self, message: Any) -> None:
        if self.queue is None:
            raise RuntimeError("context.write() is only for server-streaming methods")
        await self.queue.put(message)

    # -- the outcome
    def failure(self) -> RpcFailure | None:
        """The status the servicer set with set_code (without aborting), if not OK."""
        if self._code is None or self._code == grpc.StatusCode.OK:
            return None
        status = status_from_metadata(_code_value(self._code), self._details, self._trailing)
        return RpcFailure(status, self._trailing)
