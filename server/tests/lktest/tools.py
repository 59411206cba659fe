"""Command-line tools the tests drive (grpcurl), installed by `make setup-tools`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def grpcurl() -> str:
    """Path of grpcurl; fails (not skips) with a hint when it is not installed."""
    candidates = [os.environ.get("LINKTOR_TEST_GRPCURL", ""), str(REPO / ".tools/bin/grpcurl")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("grpcurl")
    if found:
        return found
    pytest.fail("grpcurl is not installed; run `make setup-tools`")
