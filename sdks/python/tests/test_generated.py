"""The generated layer (resources from proto/, sync twins of the async modules) is what
tools/generate.py writes today: regenerate into a scratch tree and compare."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SDK = Path(__file__).resolve().parents[1]


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("sdk_generate", SDK / "tools/generate.py")
    assert spec is not None
    assert spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    sys.modules["sdk_generate"] = generate
    spec.loader.exec_module(generate)
    written = generate.write_all(tmp_path)
    stale = [
        str(path.relative_to(tmp_path))
        for path in written
        if path.read_text() != (SDK / "src" / path.relative_to(tmp_path)).read_text()
    ]
    assert not stale, f"run `python sdks/python/tools/generate.py` (or make gen): {stale}"
