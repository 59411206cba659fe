"""Client settings: where the server is, timeouts and the retry policy."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import grpc

from linktor.sdk.errors import LinktorError, RateLimited, Unavailable

#: Where `make run` (and `linktor serve`) listens for gRPC by default.
DEFAULT_ADDRESS = "127.0.0.1:9090"
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for UNAVAILABLE and RESOURCE_EXHAUSTED.

    The n-th retry waits a random time up to ``initial_backoff * multiplier**n`` (capped at
    ``max_backoff``), and never less than the server's RetryInfo delay. A server delay longer
    than ``max_retry_after`` is not waited for: the call raises :class:`RateLimited` at once,
    so a caller is never blocked for minutes without knowing.

    UNAVAILABLE is retried only for calls that are safe to repeat: reads, calls carrying a
    request_id (the SDK adds one) and idempotent verbs. RESOURCE_EXHAUSTED is always retried:
    the server refused the call before doing anything.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.2
    max_backoff: float = 10.0
    multiplier: float = 2.0
    max_retry_after: float = 30.0

    def delay(self, retry_number: int, error: LinktorError) -> float | None:
        """Seconds to wait before retry ``retry_number`` (1-based), or None to give up."""
        if retry_number >= self.max_attempts:
            return None
        ceiling = min(
            self.max_backoff, self.initial_backoff * self.multiplier ** (retry_number - 1)
        )
        wait = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            wait = max(wait, error.retry_after)
        return wait

    def retryable(self, error: LinktorError, *, idempotent: bool) -> bool:
        if isinstance(error, RateLimited):
            return True
        return isinstance(error, Unavailable) and idempotent

    def next_delay(
        self, error: LinktorError, retry_number: int, *, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to raise it."""
        if not self.retryable(error, idempotent=idempotent):
            return None
        return self.delay(retry_number, error)


#: No retries at all.
NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class ClientOptions:
    """How a client reaches the server.

    ``address`` is ``host:port``; a ``https://`` prefix (or ``tls=True``) means TLS, an
    ``http://`` prefix plaintext; without a prefix, localhost is plaintext and any other host
    TLS. ``timeout`` is the deadline of each attempt of a unary call, in seconds.
    """

    address: str = DEFAULT_ADDRESS
    tls: bool | None = None
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    root_certificates: bytes | None = None
    user_agent: str = ""

    @property
    def target(self) -> str:
        """The gRPC target: the address without a scheme, with the default port."""
        bare = self.address.removeprefix("https://").removeprefix("http://").rstrip("/")
        if ":" not in bare.rsplit("]", 1)[-1]:
            bare += ":443" if self.uses_tls else ":9090"
        return bare

    @property
    def uses_tls(self) -> bool:
        if self.tls is not None:
            return self.tls
        if self.address.startswith("https://"):
            return True
        if self.address.startswith("http://"):
            return False
        host = self.address.rsplit(":", 1)[0] if ":" in self.address else self.address
        return host not in _LOCAL_HOSTS

    def open_channel(self) -> grpc.Channel:
        """A new (blocking API) channel to the server, TLS or not as configured."""
        if self.uses_tls:
            return grpc.secure_channel(
                self.target, self.channel_credentials(), self.channel_options()
            )
        return grpc.insecure_channel(self.target, self.channel_options())

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(root_certificates=self.root_certificates)

    def channel_options(self) -> list[tuple[str, str | int]]:
        from linktor.sdk._version import __version__

        agent = f"linktor-python/{__version__}"
        return [
            ("grpc.primary_user_agent", f"{self.user_agent} {agent}".strip()),
            # Streams stay open for hours: keep idle connections alive through NATs.
            ("grpc.keepalive_time_ms", 60_000),
        ]


def address_from_env(explicit: str | None) -> str:
    """The explicit address, else LINKTOR_ADDRESS, else the local default."""
    return explicit or os.environ.get("LINKTOR_ADDRESS") or DEFAULT_ADDRESS
