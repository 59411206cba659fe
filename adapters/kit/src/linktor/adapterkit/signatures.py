"""Webhook signature helpers: HMAC-SHA256 over the raw body, compared in constant time.

Providers sign the exact bytes they send; verify over ``HttpRequest.body`` as received,
never over re-serialized JSON. Typical headers:

- Meta (WhatsApp, Instagram, Messenger): ``X-Hub-Signature-256: sha256=<hex>``
  -> ``verify_hmac_sha256(app_secret, body, header, prefix="sha256=")``
- base64 signatures (e.g. ``X-Signature: <base64>``)
  -> ``verify_hmac_sha256(secret, body, header, encoding="base64")``

Key rotation: pass several secrets to :func:`verify_any_secret`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from typing import Literal

Encoding = Literal["hex", "base64"]


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def hmac_sha256(secret: str | bytes, body: bytes) -> bytes:
    """The raw 32-byte HMAC-SHA256 of ``body``."""
    return hmac.new(_key(secret), body, hashlib.sha256).digest()


def sign_hex(secret: str | bytes, body: bytes, *, prefix: str = "") -> str:
    """``prefix`` + lowercase hex HMAC-SHA256, e.g. ``sha256=9f86d0...``."""
    return prefix + hmac_sha256(secret, body).hex()


def sign_base64(secret: str | bytes, body: bytes, *, prefix: str = "") -> str:
    """``prefix`` + standard base64 HMAC-SHA256."""
    return prefix + base64.b64encode(hmac_sha256(secret, body)).decode()


def _decode(signature: str, encoding: Encoding) -> bytes | None:
    try:
        if encoding == "hex":
            return bytes.fromhex(signature)
        return base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        return None


def verify_hmac_sha256(
    secret: str | bytes,
    body: bytes,
    signature: str | None,
    *,
    encoding: Encoding = "hex",
    prefix: str = "",
) -> bool:
    """Whether ``signature`` (a header value) is the HMAC-SHA256 of ``body`` under ``secret``.

    ``prefix`` (such as ``sha256=``) must be present and is matched case-insensitively;
    surrounding whitespace is ignored. A missing, malformed or empty signature, or an empty
    secret, is simply False. The digest comparison is constant-time.
    """
    if not signature or not secret:
        return False
    value = signature.strip()
    if prefix:
        if value[: len(prefix)].lower() != prefix.lower():
            return False
        value = value[len(prefix) :]
    given = _decode(value, encoding)
    if given is None:
        return False
    return hmac.compare_digest(given, hmac_sha256(secret, body))


def verify_any_secret(
    secrets: Iterable[str | bytes],
    body: bytes,
    signature: str | None,
    *,
    encoding: Encoding = "hex",
    prefix: str = "",
) -> bool:
    """Like :func:`verify_hmac_sha256`, accepting any of several secrets (rotation)."""
    # Check all of them, so the time taken does not reveal which secret matched.
    results = [
        verify_hmac_sha256(s, body, signature, encoding=encoding, prefix=prefix)
        for s in secrets
        if s
    ]
    return any(results)
