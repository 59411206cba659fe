"""Resource ids: lowercase ULIDs.

26 characters of Crockford base32, time-ordered (so ids sort by creation and index
locality is good) and valid AIP-122 resource ids. See docs/adr/0004-ids.md.
"""

from __future__ import annotations

import re

from ulid import ULID

_ID = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$")


def new_id() -> str:
    """A new, unique, time-ordered id."""
    return str(ULID()).lower()


def is_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id made by :func:`new_id`."""
    return bool(_ID.match(value))
