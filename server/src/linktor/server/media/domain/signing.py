"""Signed download URLs: ``/media/{tenant}/{attachment}?expires=<unix>&signature=<mac>``.

The MAC is HMAC-SHA256 over the tenant, the attachment and the expiry with the installation's
media URL key; whoever holds the URL may download until it expires, without credentials
(browsers, providers fetching media by link). Checked in constant time; an expired or altered
URL is refused the same way as an unknown one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class SignedUrl:
    path_and_query: str
    expire_time: datetime


def _mac(key: bytes, tenant_id: str, attachment_id: str, expires: int) -> str:
    message = f"linktor-media-v1\n{tenant_id}\n{attachment_id}\n{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class DownloadSigner:
    def __init__(self, key: bytes, ttl: timedelta) -> None:
        if len(key) < 32:
            raise ValueError("the media URL key must be at least 32 bytes")
        self._key = key
        self._ttl = ttl

    def sign(self, tenant_id: str, attachment_id: str, now: datetime) -> SignedUrl:
        # Whole seconds, rounded up so the URL lives at least the TTL.
        expires = int((now + self._ttl).timestamp()) + 1
        signature = _mac(self._key, tenant_id, attachment_id, expires)
        return SignedUrl(
            f"/media/{tenant_id}/{attachment_id}?expires={expires}&signature={signature}",
            datetime.fromtimestamp(expires, UTC),
        )

    def verify(
        self, tenant_id: str, attachment_id: str, expires: str, signature: str, now: datetime
    ) -> bool:
        """Whether the URL is authentic and not expired."""
        if not expires.isdigit() or len(expires) > 12:
            return False
        expected = _mac(self._key, tenant_id, attachment_id, int(expires))
        authentic = hmac.compare_digest(expected.encode(), signature.encode())
        return authentic and now.timestamp() < int(expires)
