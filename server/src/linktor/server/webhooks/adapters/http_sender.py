"""The Sender port over httpx, behind the SSRF guard of the adapter kit.

Every request's host is resolved once and checked against the network policy (public
addresses, plus the operator's allowlist); the connection goes to a checked address while the
Host header and TLS name stay the URL's, so a DNS answer that changes between the check and
the connection (rebinding) is never used. Redirects are not followed (a 3xx is a failure, as
Standard Webhooks says). A receiver gets 15 seconds in all; only the first 4 KiB of what it
answers are read.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from linktor.adapterkit.http import BlockedAddressError, PublicAddressGuard
from linktor.adapterkit.netguard import AddressPolicy
from linktor.server.webhooks.app.ports import OutgoingRequest
from linktor.server.webhooks.domain.delivery import (
    MAX_RESPONSE_BODY_BYTES,
    REQUEST_TIMEOUT,
    Response,
    truncate_body,
)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


class PerHostTransports(httpx.AsyncBaseTransport):
    """One guarded connection pool per URL origin (scheme, host name, port).

    The guard connects to an address, so a single pool would key its connections by address:
    two tenants' host names served from one address (a CDN) would share a TLS connection made
    for the first name's certificate and SNI. Separate pools keep each request on a connection
    made, and verified, for its own host name. The least recently used pools are closed
    beyond ``max_hosts``.
    """

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport], max_hosts: int = 1024) -> None:
        self._make = make
        self._max_hosts = max_hosts
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], httpx.AsyncBaseTransport] = (
            OrderedDict()
        )

    @property
    def pool_count(self) -> int:
        return len(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make()
            while len(self._pools) > self._max_hosts:
                _key, evicted = self._pools.popitem(last=False)
                await evicted.aclose()
        self._pools.move_to_end(key)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


class HttpSender:
    def __init__(
        self,
        policy: AddressPolicy,
        *,
        max_connections: int = 256,
    ) -> None:
        def guarded_pool() -> httpx.AsyncBaseTransport:
            inner = httpx.AsyncHTTPTransport(
                limits=httpx.Limits(
                    max_connections=max_connections,
                    max_keepalive_connections=max_connections,
                    keepalive_expiry=30,
                ),
                retries=1,  # connection failures only: nothing reached the receiver yet
            )
            return PublicAddressGuard(inner, policy)

        self.transports = PerHostTransports(guarded_pool)
        timeout = REQUEST_TIMEOUT.total_seconds()
        self._client = httpx.AsyncClient(
            transport=self.transports,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            # Proxies from the environment would connect on our behalf, past the guard.
            trust_env=False,
        )

    async def send(self, request: OutgoingRequest) -> Response:
        started = time.monotonic()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT.total_seconds()):
                return await self._post(request, started)
        except TimeoutError:
            return _failed(started, f"no answer within {REQUEST_TIMEOUT.total_seconds():g} s")
        except httpx.TimeoutException:
            return _failed(started, f"no answer within {REQUEST_TIMEOUT.total_seconds():g} s")
        except BlockedAddressError as exc:
            return _failed(started, f"destination refused: {exc}")
        except httpx.ConnectError as exc:
            return _failed(started, f"cannot connect: {exc or type(exc).__name__}")
        except httpx.HTTPError as exc:
            return _failed(started, f"{type(exc).__name__}: {exc}")
        except ValueError as exc:  # an URL httpx cannot parse
            return _failed(started, f"invalid URL: {exc}")

    async def _post(self, request: OutgoingRequest, started: float) -> Response:
        async with self._client.stream(
            "POST", request.url, content=request.body, headers=dict(request.headers)
        ) as answer:
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) >= MAX_RESPONSE_BODY_BYTES:
                    break
        latency = timedelta(seconds=time.monotonic() - started)
        error = ""
        if 300 <= answer.status_code < 400:
            location = answer.headers.get("location", "")
            error = f"redirects are not followed (Location: {location[:512]})"
        return Response(
            status=answer.status_code,
            latency=latency,
            body=truncate_body(bytes(body)),
            error=error,
            retry_after=parse_retry_after(answer.headers.get("retry-after"), datetime.now(UTC)),
        )

    async def close(self) -> None:
        await self._client.aclose()


def _failed(started: float, error: str) -> Response:
    return Response(0, timedelta(seconds=time.monotonic() - started), error=error)
