"""An httpx AsyncClient for talking to providers, with defaults an adapter should have.

- Timeouts on every phase (connect 5 s, read and write 15 s, pool 5 s): a stuck provider
  must not hold a send forever.
- Connection failures are retried (twice by default, by httpx's transport): they happen
  before the request reaches the provider, so retrying cannot send a message twice. Nothing
  else is retried here; the core owns message retries (with the provider's retry_after).
- Bounded connection pool; redirects not followed unless asked.
- ``block_private_addresses=True`` for URLs that come from users or providers (media URLs,
  callback URLs): every request's host is resolved, refused when any address is private,
  loopback, link-local or otherwise not global (the rules of ``linktor.adapterkit.netguard``,
  shared with the server's outbound webhooks), and the connection is pinned to the checked
  address (no second lookup an attacker could answer differently). Use it for any URL not
  fixed by the adapter or the operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from linktor.adapterkit.netguard import AddressPolicy, BlockedDestination, UnresolvableHost

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=15.0, pool=5.0)
DEFAULT_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=30
)
DEFAULT_CONNECT_RETRIES = 2
DEFAULT_USER_AGENT = "linktor-adapter"


class BlockedAddressError(httpx.RequestError):
    """The URL's host is (or resolves to) an address adapters must not reach."""


class ResponseTooLargeError(httpx.RequestError):
    """The response body is larger than the caller allowed."""


class PublicAddressGuard(httpx.AsyncBaseTransport):
    """A transport that only lets requests reach the destinations ``policy`` permits
    (public addresses by default: SSRF protection).

    The host is resolved once per request; the request then goes to the checked addresses
    (the next one only when connecting to the previous failed), with the original Host header
    and, for https, the original name for SNI and certificate checks.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, policy: AddressPolicy | None = None
    ) -> None:
        self._inner = inner
        self._policy = policy or AddressPolicy()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            # raw_host: the IDNA (ASCII) spelling resolvers take.
            addresses = await self._policy.destinations(request.url.raw_host.decode(), port)
        except BlockedDestination as exc:
            raise BlockedAddressError(str(exc), request=request) from None
        except UnresolvableHost as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        original = request.url
        failure: httpx.ConnectError | None = None
        for address in addresses:
            request.url = original.copy_with(host=str(address))
            if original.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
            try:
                return await self._inner.handle_async_request(request)
            except httpx.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def aclose(self) -> None:
        await self._inner.aclose()


def create_http_client(
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limits: httpx.Limits = DEFAULT_LIMITS,
    connect_retries: int = DEFAULT_CONNECT_RETRIES,
    block_private_addresses: bool = False,
    follow_redirects: bool = False,
    user_agent: str = DEFAULT_USER_AGENT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient with the defaults above. Create one per adapter process and close it
    in ``aclose()``; ``transport`` replaces the network (tests)."""
    inner = transport or httpx.AsyncHTTPTransport(limits=limits, retries=connect_retries)
    if block_private_addresses:
        inner = PublicAddressGuard(inner)
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"user-agent": user_agent, **(headers or {})},
        timeout=timeout,
        transport=inner,
        follow_redirects=follow_redirects,
        max_redirects=3,
    )


@dataclass(frozen=True)
class Fetched:
    """A response body read in full (within a size limit)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


async def fetch_bytes(client: httpx.AsyncClient, url: str, *, max_bytes: int) -> Fetched:
    """GET ``url`` reading at most ``max_bytes`` of (decoded) body; ResponseTooLargeError
    beyond. Any status is returned: checking it is the caller's choice."""
    async with client.stream("GET", url) as streamed:
        declared = streamed.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ResponseTooLargeError(
                f"{url}: {declared} bytes, limit {max_bytes}", request=streamed.request
            )
        body = bytearray()
        async for chunk in streamed.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise ResponseTooLargeError(
                    f"{url}: more than {max_bytes} bytes", request=streamed.request
                )
    return Fetched(streamed.status_code, streamed.headers, bytes(body))
