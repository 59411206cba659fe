"""Media on local disk: ``<root>/<key>``, written aside then renamed (never half a file).

File operations run in worker threads so a large file never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

from linktor.server.infra.media.port import CHUNK_BYTES, MediaMissing, MediaTooLarge, StoredBlob

# Lowercase ids separated by slashes: no "..", no absolute path, no backslash, no dot files.
_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}(/[a-z0-9][a-z0-9-]{0,63}){0,3}")


class LocalMediaStorage:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        # Keys come from the platform; the pattern makes a path escape impossible anyway,
        # and the resolved path is checked once more (a symlinked directory, say).
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid media key {key[:80]!r}")
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root):
            raise ValueError(f"media key {key[:80]!r} leaves the media root")
        return path

    async def put(self, key: str, data: bytes) -> StoredBlob:
        path = self._path(key)
        await asyncio.to_thread(self._write, path, data)
        return StoredBlob(len(data), hashlib.sha256(data).hexdigest())

    async def put_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> StoredBlob:
        path = self._path(key)
        draft = await asyncio.to_thread(self._open_draft, path)
        digest = hashlib.sha256()
        size = 0
        out: BinaryIO = await asyncio.to_thread(draft.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise MediaTooLarge(max_bytes)
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(_close_synced, out)
            await asyncio.to_thread(draft.replace, path)
        except BaseException:
            out.close()
            draft.unlink(missing_ok=True)
            raise
        return StoredBlob(size, digest.hexdigest())

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def stream(self, key: str, *, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            source: BinaryIO = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise MediaMissing(key) from None
        try:
            while chunk := await asyncio.to_thread(source.read, chunk_bytes):
                yield chunk
        finally:
            source.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    @staticmethod
    def _open_draft(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f".{path.name}.{os.getpid()}.{id(path):x}.tmp")

    @classmethod
    def _write(cls, path: Path, data: bytes) -> None:
        draft = cls._open_draft(path)
        try:
            with draft.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            draft.replace(path)
        finally:
            draft.unlink(missing_ok=True)


def _close_synced(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())
    out.close()
