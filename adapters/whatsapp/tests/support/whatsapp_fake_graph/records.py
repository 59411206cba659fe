"""What the fake keeps: the requests it received and the media it stores."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    """A request the fake received, for assertions."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    file: tuple[str, str, bytes] | None = None


@dataclass
class StoredMedia:
    data: bytes
    mime_type: str
    # Set by tests to announce a hash the bytes do not have (corruption in transit).
    announced_sha256: str = ""

    @property
    def sha256(self) -> str:
        return self.announced_sha256 or hashlib.sha256(self.data).hexdigest()
