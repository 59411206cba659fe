"""SecretBox (AES-256-GCM): round trips, binding to the record, key rotation, the generated
embedded key, and the LINKTOR_SECRETS_KEY setting."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from linktor.server.config import ConfigError, load_settings
from linktor.server.infra.secrets.aes_gcm import AesGcmSecretBox, key_id
from linktor.server.infra.secrets.factory import GENERATED_KEY_FILE, create_secret_box
from linktor.server.infra.secrets.port import SecretUnreadable

pytestmark = pytest.mark.unit

OLD, NEW = os.urandom(32), os.urandom(32)
AD = b"tenants/t1/channels/c1"


def test_round_trip_and_binding() -> None:
    box = AesGcmSecretBox([NEW])
    sealed = box.seal(b"token", AD)
    assert b"token" not in sealed
    assert sealed[0] == 1 and sealed[1:9] == key_id(NEW)
    assert box.open(sealed, AD) == b"token"
    assert box.seal(b"token", AD) != sealed  # a fresh nonce each time
    with pytest.raises(SecretUnreadable, match="another record"):
        box.open(sealed, b"tenants/t2/channels/c1")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SecretUnreadable):
        box.open(tampered, AD)
    with pytest.raises(SecretUnreadable, match="format"):
        box.open(b"\x02" + sealed[1:], AD)


def test_rotation() -> None:
    sealed_with_old = AesGcmSecretBox([OLD]).seal(b"token", AD)
    rotated = AesGcmSecretBox([NEW, OLD])  # the new key first: it seals; both open
    assert rotated.open(sealed_with_old, AD) == b"token"
    assert rotated.needs_reseal(sealed_with_old)
    resealed = rotated.seal(b"token", AD)
    assert not rotated.needs_reseal(resealed)
    with pytest.raises(SecretUnreadable, match="not in LINKTOR_SECRETS_KEY") as info:
        AesGcmSecretBox([NEW]).open(sealed_with_old, AD)
    assert OLD.hex() not in str(info.value)


def test_configured_keys(tmp_path: Path) -> None:
    new_b64 = base64.b64encode(NEW).decode()
    old_b64 = base64.urlsafe_b64encode(OLD).decode().rstrip("=")
    settings = load_settings(data_dir=tmp_path, secrets_key=f"{new_b64}, {old_b64}")
    assert settings.secrets_keys == [NEW, OLD]
    box = create_secret_box(settings)
    assert box.open(AesGcmSecretBox([OLD]).seal(b"x", AD), AD) == b"x"
    assert not (tmp_path / GENERATED_KEY_FILE).exists()
    with pytest.raises(ConfigError, match="LINKTOR_SECRETS_KEY: each key must be") as info:
        load_settings(data_dir=tmp_path, secrets_key="c2hvcnQ=")
    assert "c2hvcnQ" not in str(info.value)


def test_embedded_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    sealed = create_secret_box(settings).seal(b"token", AD)
    path = tmp_path / "data" / GENERATED_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    # The next start reads the same key.
    assert create_secret_box(settings).open(sealed, AD) == b"token"
    # Users may move it into LINKTOR_SECRETS_KEY as it is.
    scaled = load_settings(data_dir=tmp_path / "elsewhere", secrets_key=path.read_text())
    assert create_secret_box(scaled).open(sealed, AD) == b"token"


def test_public_url(tmp_path: Path) -> None:
    assert load_settings(http_addr="0.0.0.0:8080").effective_public_url == "http://localhost:8080"
    assert load_settings(http_addr="10.0.0.5:80").effective_public_url == "http://10.0.0.5:80"
    custom = load_settings(public_url="https://chat.example.com/linktor/")
    assert custom.effective_public_url == "https://chat.example.com/linktor"
    for bad in ("ftp://x.example.com", "https://x.example.com/?a=1", "example.com"):
        with pytest.raises(ConfigError, match="LINKTOR_PUBLIC_URL"):
            load_settings(public_url=bad)
