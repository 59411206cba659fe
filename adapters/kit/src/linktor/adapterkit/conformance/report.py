"""Rendering a conformance report: a Rich table for people, JSON for machines."""

from __future__ import annotations

import json
import shlex
from typing import TextIO

from rich.console import Console
from rich.table import Table

from linktor.adapterkit.conformance.checks import ConformanceReport, Outcome

_STYLES = {
    Outcome.PASS: ("PASS", "green"),
    Outcome.FAIL: ("FAIL", "bold red"),
    Outcome.WARN: ("WARN", "yellow"),
    Outcome.SKIP: ("SKIP", "dim"),
}
_LOG_LINES_ON_FAILURE = 15


def render(report: ConformanceReport, console: Console) -> None:
    title = f"Adapter conformance: {report.adapter or shlex.join(report.command)}"
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("details", overflow="fold")
    for result in report.results:
        label, style = _STYLES[result.outcome]
        table.add_row(result.name, f"[{style}]{label}[/]", result.detail)
    console.print(table)
    counts = {o: sum(1 for r in report.results if r.outcome is o) for o in Outcome}
    words = {
        Outcome.PASS: "passed",
        Outcome.FAIL: "failed",
        Outcome.WARN: "with warnings",
        Outcome.SKIP: "skipped",
    }
    summary = ", ".join(f"{n} {words[o]}" for o, n in counts.items() if n)
    if report.passed:
        console.print(f"[green]conformant[/] ({summary})")
    else:
        console.print(f"[bold red]not conformant[/] ({summary})")
        tail = [entry for entry in report.logs if entry.source != "stdout"][-_LOG_LINES_ON_FAILURE:]
        if tail:
            console.print("last lines the adapter wrote:", style="dim")
            for entry in tail:
                console.print(
                    f"  {entry.level:<7} {entry.message}",
                    style="dim",
                    markup=False,
                    highlight=False,
                )


def write_json(report: ConformanceReport, out: TextIO) -> None:
    payload = {
        "command": report.command,
        "adapter": report.adapter,
        "passed": report.passed,
        "checks": [
            {
                "name": r.name,
                "outcome": r.outcome.value,
                "detail": r.detail,
                "seconds": round(r.seconds, 3),
            }
            for r in report.results
        ],
    }
    json.dump(payload, out, indent=2)
    out.write("\n")
