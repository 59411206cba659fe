"""Credentials a client can hold, and the token bookkeeping shared by both clients.

- :class:`ApiKey`: a tenant's API key (``lk_...``), sent as is on every call.
- :class:`Password`: email and password; the client logs in on first use, refreshes the
  access token before it expires (and again when the server says UNAUTHENTICATED), and logs
  in again when the refresh token is gone.
- :class:`RefreshToken`: resume a session saved earlier (msgfy keeps one per profile).

Refresh tokens are single use: every refresh returns a new one, and presenting an old one
again revokes the whole session. Pass ``on_tokens`` to a client to persist each new pair.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from linktor.v1 import auth_pb2

#: Refresh this long before the access token expires (clock skew, time in flight).
EXPIRY_MARGIN_SECONDS = 30.0


@dataclass(frozen=True)
class ApiKey:
    """A tenant's API key (``lk_<prefix>_<secret>``)."""

    secret: str

    def __repr__(self) -> str:
        return f"ApiKey({self.secret[:15]}...)"


@dataclass(frozen=True)
class Password:
    """Log in with email and password; ``tenant`` picks one when the person has several."""

    email: str
    password: str
    tenant: str = ""

    def __repr__(self) -> str:
        return f"Password(email={self.email!r}, tenant={self.tenant!r})"


@dataclass(frozen=True)
class RefreshToken:
    """Resume a session from a refresh token (``lkr_...``) saved earlier."""

    token: str

    def __repr__(self) -> str:
        return "RefreshToken(...)"


Credentials = ApiKey | Password | RefreshToken


@dataclass(frozen=True)
class Tokens:
    """A session's access and refresh tokens with their expiry (epoch seconds)."""

    access_token: str
    access_expires_at: float
    refresh_token: str
    refresh_expires_at: float

    @classmethod
    def from_pair(cls, pair: auth_pb2.TokenPair) -> Tokens:
        return cls(
            pair.access_token,
            pair.access_token_expire_time.ToDatetime().timestamp() if pair.access_token else 0.0,
            pair.refresh_token,
            pair.refresh_token_expire_time.ToDatetime().timestamp() if pair.refresh_token else 0.0,
        )

    def access_fresh(self, now: float | None = None) -> bool:
        return (now or time.time()) < self.access_expires_at - EXPIRY_MARGIN_SECONDS

    def refresh_usable(self, now: float | None = None) -> bool:
        return bool(self.refresh_token) and (now or time.time()) < self.refresh_expires_at


TokensCallback = Callable[[Tokens], None]


def tenant_of_resource(name: str) -> str:
    """``tenants/acme/users/u1`` -> ``tenants/acme``; empty when not under a tenant."""
    parts = name.split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 and parts[0] == "tenants" else ""


class SessionState:
    """What a session knows; the asyncio and sync sessions add only the calls and the lock."""

    def __init__(self, credentials: Credentials, on_tokens: TokensCallback | None) -> None:
        self.credentials = credentials
        self.on_tokens = on_tokens
        self.tokens: Tokens | None = None
        self.refresh_token = credentials.token if isinstance(credentials, RefreshToken) else ""
        #: The tenant learned from a login, saving a GetPrincipal call.
        self.tenant = ""

    @property
    def static_bearer(self) -> str | None:
        if isinstance(self.credentials, ApiKey):
            return f"Bearer {self.credentials.secret}"
        return None

    def current_bearer(self) -> str | None:
        """The bearer to send now, or None when a login or refresh must happen first."""
        if self.static_bearer is not None:
            return self.static_bearer
        if self.tokens is not None and self.tokens.access_fresh():
            return f"Bearer {self.tokens.access_token}"
        return None

    def can_refresh(self) -> bool:
        if self.tokens is not None:
            return self.tokens.refresh_usable()
        return bool(self.refresh_token)

    def can_login(self) -> bool:
        return isinstance(self.credentials, Password)

    def login_request(self) -> auth_pb2.LoginRequest:
        assert isinstance(self.credentials, Password)
        return auth_pb2.LoginRequest(
            email=self.credentials.email,
            password=self.credentials.password,
            tenant=self.credentials.tenant,
        )

    def refresh_request(self) -> auth_pb2.RefreshRequest:
        token = self.tokens.refresh_token if self.tokens else self.refresh_token
        return auth_pb2.RefreshRequest(refresh_token=token)

    def accept(self, pair: auth_pb2.TokenPair, user_name: str = "") -> str:
        """Store a new token pair (tell ``on_tokens``); returns the new bearer."""
        self.tokens = Tokens.from_pair(pair)
        self.refresh_token = self.tokens.refresh_token
        if user_name:
            self.tenant = tenant_of_resource(user_name)
        if self.on_tokens is not None:
            self.on_tokens(self.tokens)
        return f"Bearer {self.tokens.access_token}"

    def forget_access(self) -> None:
        """The server refused the access token: the next call refreshes first."""
        if self.tokens is not None:
            self.tokens = Tokens("", 0.0, self.tokens.refresh_token, self.tokens.refresh_expires_at)
