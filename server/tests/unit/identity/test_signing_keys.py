"""Where the JWT key comes from: configuration, a key file, or generated once (0600)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from linktor.server.config import load_settings
from linktor.server.identity.adapters.signing_keys import (
    GENERATED_KEY_FILE,
    SigningKeyError,
    access_tokens_from,
)
from linktor.server.identity.domain.session import AccessClaims

pytestmark = pytest.mark.unit


def claims() -> AccessClaims:
    # Made per test: a module-level token time goes stale when the suite runs long.
    now = datetime.now(UTC).replace(microsecond=0)
    return AccessClaims("u", "acme", "s", now, now + timedelta(minutes=5))


def test_embedded_key_is_generated_once_with_0600(tmp_path: Path) -> None:
    first = access_tokens_from(load_settings(data_dir=tmp_path))
    path = tmp_path / GENERATED_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    content = path.read_bytes()
    second = access_tokens_from(load_settings(data_dir=tmp_path))
    assert path.read_bytes() == content
    made = claims()
    assert second.verify(first.issue(made)) == made  # tokens survive a restart


def test_configured_secret_wins_and_other_secrets_do_not_verify(tmp_path: Path) -> None:
    configured = access_tokens_from(load_settings(data_dir=tmp_path, jwt_secret="k" * 40))
    assert not (tmp_path / GENERATED_KEY_FILE).exists()
    generated = access_tokens_from(load_settings(data_dir=tmp_path / "other"))
    made = claims()
    token = configured.issue(made)
    assert configured.verify(token) == made
    with pytest.raises(Exception, match="signature is not valid"):
        generated.verify(token)


def test_es256_from_a_pem_key_file(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "jwt.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tokens = access_tokens_from(
        load_settings(data_dir=tmp_path, jwt_algorithm="ES256", jwt_key_file=pem)
    )
    made = claims()
    assert tokens.verify(tokens.issue(made)) == made
    pem.write_text("not a key")
    with pytest.raises(SigningKeyError, match="not a PEM private key"):
        access_tokens_from(
            load_settings(data_dir=tmp_path, jwt_algorithm="ES256", jwt_key_file=pem)
        )
