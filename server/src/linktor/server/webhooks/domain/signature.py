"""Standard Webhooks signing secrets and signatures.

A secret is ``whsec_`` + the base64 of 32 random bytes; the HMAC key is those bytes. A
request is signed over ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256, and the
``webhook-signature`` header carries ``v1,<base64 signature>`` per signing secret, separated
by spaces (two during a rotation's grace period, so receivers holding either secret verify).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret. ValueError (saying nothing of the secret) when it
    is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("not a whsec_ secret")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a whsec_ secret") from None
    if not key:
        raise ValueError("not a whsec_ secret")
    return key


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of one request."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    signing_secrets: Sequence[str], webhook_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one ``v1,`` signature per secret, space-separated."""
    return " ".join(sign(s, webhook_id, timestamp, body) for s in signing_secrets)
