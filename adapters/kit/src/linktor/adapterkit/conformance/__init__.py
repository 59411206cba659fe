"""The adapter conformance suite: ``python -m linktor.adapterkit.conformance -- COMMAND...``.

Programmatic use (tests)::

    report = await run_conformance(["python", "-m", "my_adapter"])
    assert report.passed, report.results
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from rich.console import Console

from linktor.adapterkit.conformance.checks import (
    CheckResult,
    ConformanceOptions,
    ConformanceReport,
    Outcome,
    run_conformance,
)
from linktor.adapterkit.conformance.report import render, write_json

__all__ = [
    "CheckResult",
    "ConformanceOptions",
    "ConformanceReport",
    "Outcome",
    "main",
    "run",
    "run_conformance",
]


def run(command: Sequence[str], options: ConformanceOptions, *, as_json: bool = False) -> int:
    """Run the suite and print the report; the exit status (0 = conformant, 1 = not)."""
    report = asyncio.run(run_conformance(list(command), options))
    if as_json:
        write_json(report, sys.stdout)
    else:
        render(report, Console())
    return 0 if report.passed else 1


def _json_object(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m linktor.adapterkit.conformance",
        description="Launch a channel adapter through the plugin handshake and check it "
        "against the linktor.adapter.v1.ChannelAdapter contract.",
        epilog="example: python -m linktor.adapterkit.conformance -- "
        "python -m linktor.adapters.fake",
    )
    parser.add_argument(
        "--config", type=_json_object, default={}, help="channel config (JSON object) for sends"
    )
    parser.add_argument(
        "--secrets", type=_json_object, default={}, help="channel secrets (JSON object of strings)"
    )
    parser.add_argument("--recipient", default="+15550100", help="recipient address for sends")
    parser.add_argument(
        "--start-timeout", type=float, default=30.0, help="seconds to wait for the handshake"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the adapter command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the adapter command after --, e.g. -- python -m linktor.adapters.fake")
    options = ConformanceOptions(
        config=args.config,
        secrets={str(k): str(v) for k, v in args.secrets.items()},
        recipient=args.recipient,
        start_timeout=args.start_timeout,
    )
    return run(command, options, as_json=args.json)
