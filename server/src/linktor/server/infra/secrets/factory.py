"""The SecretBox the settings select: LINKTOR_SECRETS_KEY, or in embedded use a key generated
on first start under the data dir (mode 0600)."""

from __future__ import annotations

import base64
import os

from linktor.server.config import Settings, decode_secrets_key
from linktor.server.infra.keyfiles import read_or_create_key_file
from linktor.server.infra.secrets.aes_gcm import AesGcmSecretBox
from linktor.server.logs import get_logger

GENERATED_KEY_FILE = "secrets-key"

log = get_logger(__name__)


def _new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def create_secret_box(settings: Settings) -> AesGcmSecretBox:
    keys = settings.secrets_keys
    if keys:
        return AesGcmSecretBox(keys)
    path = settings.data_dir / GENERATED_KEY_FILE
    if not settings.effective_database_url.startswith("sqlite"):
        # Every replica must open what another sealed: a key of this machine's data dir
        # is only right for a single server.
        log.warning(
            "LINKTOR_SECRETS_KEY is not set: channel secrets are encrypted with a key generated"
            " in the data dir; replicas sharing this database must share the key",
            key_file=str(path),
        )
    return AesGcmSecretBox([decode_secrets_key(read_or_create_key_file(path, _new_key).decode())])
