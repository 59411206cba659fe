"""The media storage port: bytes by key. Embedded mode keeps them on local disk under the
data dir (``local.py``); a scaled installation plugs in an object store (S3 and the like)
behind the same three calls. Keys are made by the platform (``tenant/id``), never by users.
"""

from __future__ import annotations

from typing import Protocol


class MediaStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing nothing: keys are fresh ids)."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The bytes, or None when nothing is stored under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        ...
