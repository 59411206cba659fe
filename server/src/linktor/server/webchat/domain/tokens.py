"""Visitor session tokens: who a visitor is, on which channel, until when.

A token is ``base64url(payload).base64url(HMAC-SHA256(key, "wcv1." + payload))`` with its
own key (never the JWT key of users: a visitor token can never pass as a user's). The
payload holds the visitor id, an optional display name the visitor typed, a fingerprint of
the channel's public key (so a token is valid on its channel only) and the expiry: nothing
about the tenant. Verification is constant-time and checks the signature before parsing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

_VERSION = b"wcv1."
_MAX_TOKEN_LENGTH = 1024


@dataclass(frozen=True)
class VisitorSession:
    visitor_id: str
    display_name: str
    channel_key_hash: str
    expire_at: int


def new_visitor_id() -> str:
    """A visitor's address on the channel: 96 random bits, lowercase."""
    return "wv_" + secrets.token_hex(12)


def channel_key_hash(channel_key: str) -> str:
    return hashlib.sha256(channel_key.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VisitorTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the visitor session key must be at least 32 bytes")
        self._key = key

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, _VERSION + payload.encode(), hashlib.sha256).digest())

    def issue(self, session: VisitorSession) -> str:
        body = {
            "v": session.visitor_id,
            "n": session.display_name,
            "c": session.channel_key_hash,
            "e": session.expire_at,
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, *, channel_key: str, now: int) -> VisitorSession | None:
        """The session, or None for anything forged, malformed, expired or of another
        channel (callers answer the same way in every case)."""
        if not token or len(token) > _MAX_TOKEN_LENGTH or token.count(".") != 1:
            return None
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            body = json.loads(_unb64(payload))
            session = VisitorSession(
                visitor_id=str(body["v"]),
                display_name=str(body["n"]),
                channel_key_hash=str(body["c"]),
                expire_at=int(body["e"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if not hmac.compare_digest(session.channel_key_hash, channel_key_hash(channel_key)):
            return None
        return session if session.expire_at > now else None
