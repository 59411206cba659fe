"""The SecretBox port: authenticated encryption of small secrets stored in the database.

``associated_data`` binds a ciphertext to the row it belongs to (for example the channel's
resource name): a ciphertext copied into another row, or another tenant's, does not open.
"""

from __future__ import annotations

from typing import Protocol


class SecretUnreadable(Exception):
    """A ciphertext does not open: made with a key that is not configured any more, damaged,
    or moved to another row. The message never contains secret material."""


class SecretBox(Protocol):
    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Encrypt with the current key; the result names the key that made it."""
        ...

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        """Decrypt with whichever configured key made ``sealed``; SecretUnreadable if none."""
        ...

    def needs_reseal(self, sealed: bytes) -> bool:
        """Whether ``sealed`` was made with a key other than the current one (rotation)."""
        ...
