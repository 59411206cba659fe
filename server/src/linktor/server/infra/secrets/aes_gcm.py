"""SecretBox with AES-256-GCM (``cryptography``), rotation-friendly.

Layout of a sealed value: ``0x01`` (format version) | key id (8 bytes) | nonce (12 bytes) |
ciphertext and tag. The key id is a hash of the key, so ciphertexts say which of the
configured keys opens them: after adding a new key in front of LINKTOR_SECRETS_KEY, old
values still open with the old one and are re-sealed with the new one when next written.
A random 96-bit nonce per seal is safe far beyond the number of secrets a database holds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linktor.server.infra.secrets.port import SecretUnreadable

FORMAT_VERSION = 1
KEY_ID_BYTES = 8
NONCE_BYTES = 12
_HEADER = 1 + KEY_ID_BYTES + NONCE_BYTES


def key_id(key: bytes) -> bytes:
    """A stable, non-secret name of a key (a hash that reveals nothing useful about it)."""
    return hashlib.sha256(b"linktor-secret-box-key-id\x00" + key).digest()[:KEY_ID_BYTES]


class AesGcmSecretBox:
    def __init__(self, keys: Sequence[bytes]) -> None:
        """``keys[0]`` seals; every key opens what it sealed. Each key is 32 bytes."""
        if not keys:
            raise ValueError("at least one key is needed")
        if any(len(key) != 32 for key in keys):
            raise ValueError("AES-256 keys are 32 bytes")
        self._current = key_id(keys[0])
        self._ciphers = {key_id(key): AESGCM(key) for key in keys}

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext, associated_data)
        return bytes([FORMAT_VERSION]) + self._current + nonce + sealed

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        if len(sealed) <= _HEADER or sealed[0] != FORMAT_VERSION:
            raise SecretUnreadable("not a sealed secret of a known format")
        cipher = self._ciphers.get(sealed[1 : 1 + KEY_ID_BYTES])
        if cipher is None:
            raise SecretUnreadable(
                "sealed with a key that is not in LINKTOR_SECRETS_KEY (key id"
                f" {sealed[1 : 1 + KEY_ID_BYTES].hex()}); add that key back after the current one"
            )
        nonce = sealed[1 + KEY_ID_BYTES : _HEADER]
        try:
            return cipher.decrypt(nonce, sealed[_HEADER:], associated_data)
        except InvalidTag:
            raise SecretUnreadable("damaged, or sealed for another record") from None

    def needs_reseal(self, sealed: bytes) -> bool:
        return sealed[1 : 1 + KEY_ID_BYTES] != self._current
