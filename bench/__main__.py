"""Run benchmarks and record their results under bench/results/.

Each benchmark is a module `bench.<name>.run` with a `main() -> dict` returning
{"benchmark": name, "metrics": {...}, ...}; the runner adds the machine facts and the time,
prints the result, and writes bench/results/<name>-<UTC date>.json (schema in bench/README.md).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
# Benchmarks `make bench` runs when no name is given.
DEFAULT = ["startup"]


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
    }


def record(name: str, result: dict[str, Any]) -> Path:
    """Stamp ``result`` (time, machine), print it and write results/<name>-<UTC date>.json;
    also for benchmarks run with their own options (`python -m bench.<name>.run ...`)."""
    result.setdefault("benchmark", name)
    result["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = machine()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"recorded {path.relative_to(RESULTS.parent.parent)}", file=sys.stderr)
    return path


def run(name: str) -> dict[str, Any]:
    module = importlib.import_module(f"bench.{name}.run")
    result: dict[str, Any] = module.main()
    record(name, result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", default=DEFAULT, help="benchmarks to run")
    for name in parser.parse_args().names:
        run(name)


if __name__ == "__main__":
    main()
