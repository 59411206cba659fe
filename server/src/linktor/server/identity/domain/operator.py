"""Platform operators: the people running a Linktor installation. They authenticate with
operator keys (``lko_...``) made by ``linktor operator create-key`` on the server."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OperatorKey:
    id: str
    display_name: str
    prefix: str
    secret_hash: str
    create_time: datetime
    revoke_time: datetime | None = None

    def accepts(self, candidate_hash: str) -> bool:
        return self.revoke_time is None and hmac.compare_digest(self.secret_hash, candidate_hash)
