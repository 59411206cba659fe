"""The media storage port: bytes by key, with their size and SHA-256.

Every installation keeps them on local disk under ``LINKTOR_MEDIA_DIR`` (default
``<data dir>/media``; ``local.py``). The port is small on purpose so an S3-compatible object
store can sit behind it later: ``put_stream`` maps to a multipart upload, ``stream`` to a
ranged GET, ``delete`` to DELETE; nothing here needs a file system. Keys are made by the
platform (``<tenant>/<id>``), never taken from users, and an implementation refuses any
other shape (no path traversal, no absolute names).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol

#: Read and write in pieces of this size (the adapter contract's chunk size too).
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    """What was written: the byte count and lowercase hex SHA-256."""

    size_bytes: int
    sha256: str


class MediaTooLarge(Exception):
    """``put_stream`` saw more than ``max_bytes``; nothing was kept."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class MediaMissing(Exception):
    """Nothing is stored under the key."""


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes) -> StoredBlob:
        """Store ``data`` under ``key`` (keys are fresh ids: nothing is replaced)."""
        ...

    async def put_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> StoredBlob:
        """Store the bytes of ``chunks`` under ``key`` as they come, never holding the whole
        file; MediaTooLarge (and nothing stored) past ``max_bytes``."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The bytes, or None when nothing is stored under ``key`` (small files only)."""
        ...

    def stream(self, key: str, *, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
        """The bytes in chunks; MediaMissing on the first read when nothing is stored."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        ...


# The name the web chat context imports (it only uses put/get/delete).
MediaStorage = MediaStore
