"""Media on local disk: ``<root>/<key>``, written aside then renamed (never half a file)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

_KEY = re.compile(r"[a-z0-9-]{1,64}(/[a-z0-9-]{1,64}){0,3}")


class LocalMediaStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        # Keys come from the platform; the check makes a path escape impossible anyway.
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid media key {key[:80]!r}")
        return self._root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with draft.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        draft.replace(path)
