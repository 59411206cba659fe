"""Where the JWT signing key comes from: LINKTOR_JWT_SECRET, LINKTOR_JWT_KEY_FILE, or (when
neither is set) a random secret generated on first start under the data dir, mode 0600."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from linktor.server.config import Settings
from linktor.server.identity.adapters.jwt_tokens import JwtAccessTokens
from linktor.server.infra.keyfiles import read_or_create_key_file

GENERATED_KEY_FILE = "jwt-signing-key"


class SigningKeyError(Exception):
    """The configured key cannot be used; the message says why."""


def _generated_secret(data_dir: Path) -> bytes:
    return read_or_create_key_file(data_dir / GENERATED_KEY_FILE, lambda: secrets.token_urlsafe(48))


def _keys(settings: Settings) -> tuple[Any, Any]:
    if settings.jwt_algorithm.startswith("HS"):
        if settings.jwt_secret is not None:
            secret = settings.jwt_secret.get_secret_value().encode()
        elif settings.jwt_key_file is not None:
            secret = settings.jwt_key_file.read_bytes().strip()
        else:
            secret = _generated_secret(settings.data_dir)
        if len(secret) < 32:
            raise SigningKeyError("the JWT secret must be at least 32 bytes")
        return secret, secret
    assert settings.jwt_key_file is not None  # enforced by Settings
    try:
        private = load_pem_private_key(settings.jwt_key_file.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"LINKTOR_JWT_KEY_FILE is not a PEM private key: {exc}") from None
    return private, private.public_key()


def access_tokens_from(settings: Settings) -> JwtAccessTokens:
    """The access-token codec the settings describe."""
    try:
        signing, verification = _keys(settings)
    except OSError as exc:
        raise SigningKeyError(f"cannot read the JWT key: {exc}") from None
    return JwtAccessTokens(
        algorithm=settings.jwt_algorithm,
        signing_key=signing,
        verification_key=verification,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
