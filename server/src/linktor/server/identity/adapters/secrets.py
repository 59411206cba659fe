"""High-entropy credentials: generation, the lookup prefix, and fast hashing.

API keys look like ``lk_<12 chars>_<43 chars>``: the ``lk_<12 chars>`` prefix is stored in
clear and finds the key; the whole secret is stored only as SHA-256 (256 random bits need no
slow hash) and compared in constant time. Operator keys are the same with ``lko_``; refresh
tokens are ``lkr_<43 chars>`` and password setup tokens ``lkps_<43 chars>``, both found by
their hash.
"""

from __future__ import annotations

import hashlib
import secrets
import string

API_KEY_TAG = "lk"
OPERATOR_KEY_TAG = "lko"
REFRESH_TOKEN_TAG = "lkr"  # noqa: S105 - a label, not a secret
PASSWORD_SETUP_TAG = "lkps"  # noqa: S105 - a label, not a secret
_LOOKUP_ALPHABET = string.ascii_lowercase + string.digits
_LOOKUP_LENGTH = 12


def new_keyed_secret(tag: str) -> tuple[str, str]:
    """(prefix, secret) for a new key with ``tag`` (``lk`` or ``lko``)."""
    lookup = "".join(secrets.choice(_LOOKUP_ALPHABET) for _ in range(_LOOKUP_LENGTH))
    prefix = f"{tag}_{lookup}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def with_new_secret(prefix: str) -> str:
    """A new secret for an existing key (rotation keeps the prefix)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def prefix_of(secret: str, tag: str) -> str | None:
    """The lookup prefix of a ``tag`` secret, or None when it does not have that shape."""
    head, sep, rest = secret.partition("_")
    lookup, sep2, body = rest.partition("_")
    if head != tag or not sep or not sep2 or len(lookup) != _LOOKUP_LENGTH or len(body) < 32:
        return None
    if not all(ch in _LOOKUP_ALPHABET for ch in lookup):
        return None
    return f"{tag}_{lookup}"


def new_refresh_token() -> str:
    return f"{REFRESH_TOKEN_TAG}_{secrets.token_urlsafe(32)}"


def new_password_setup_token() -> str:
    return f"{PASSWORD_SETUP_TAG}_{secrets.token_urlsafe(32)}"


class Sha256Credentials:
    """The Credentials port: the functions above, with SHA-256 as the hash."""

    def hash(self, secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def new_api_key(self) -> tuple[str, str]:
        return new_keyed_secret(API_KEY_TAG)

    def new_operator_key(self) -> tuple[str, str]:
        return new_keyed_secret(OPERATOR_KEY_TAG)

    def new_secret_for(self, prefix: str) -> str:
        return with_new_secret(prefix)

    def new_refresh_token(self) -> str:
        return new_refresh_token()

    def new_password_setup_token(self) -> str:
        return new_password_setup_token()

    def api_key_prefix(self, secret: str) -> str | None:
        return prefix_of(secret, API_KEY_TAG)

    def operator_key_prefix(self, secret: str) -> str | None:
        return prefix_of(secret, OPERATOR_KEY_TAG)
