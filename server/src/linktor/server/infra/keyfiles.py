"""Keys generated on first start and kept under the data dir (embedded mode), so a newcomer
needs no configuration: the JWT signing secret, the secrets-at-rest key."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def read_or_create_key_file(path: Path, make: Callable[[], str]) -> bytes:
    """The stripped contents of ``path``; when it does not exist, ``make()`` is written to it
    first with mode 0600.

    The file appears whole or not at all (written aside, then hard-linked into place), so
    several processes starting together agree on one key and none reads a half-written one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(make())
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    return path.read_bytes().strip()
