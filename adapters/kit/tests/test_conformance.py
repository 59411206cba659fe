"""The conformance suite against the fake adapter, the Go example and a broken adapter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from linktor.adapterkit.conformance import ConformanceOptions, Outcome, run_conformance
from linktor.adapterkit.testing import go_build

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
FAKE = [sys.executable, "-m", "linktor.adapters.fake"]
BAD = [sys.executable, str(Path(__file__).parent / "plugins" / "bad_adapter.py")]


@pytest.fixture(scope="session")
def go_echo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return go_build(
        ROOT / "adapters" / "examples" / "go-echo", tmp_path_factory.mktemp("go") / "go-echo"
    )


def outcomes(report: object) -> dict[str, Outcome]:
    return {r.name: r.outcome for r in report.results}  # type: ignore[attr-defined]


async def test_the_fake_adapter_is_conformant() -> None:
    report = await run_conformance(FAKE, ConformanceOptions(secrets={"webhook_secret": "s"}))
    assert report.passed, report.results
    assert set(outcomes(report).values()) == {Outcome.PASS}
    assert report.adapter == "linktor-fake 0.1.0 (WEBCHAT)"


async def test_the_fake_adapter_with_few_kinds_refuses_the_others() -> None:
    options = ConformanceOptions(
        env={"LINKTOR_FAKE_CONTENT_KINDS": "text,image", "LINKTOR_FAKE_CHANNEL_TYPE": "sms"}
    )
    report = await run_conformance(FAKE, options)
    assert report.passed, report.results
    assert (
        report.result("refuse undeclared kinds").detail
        == "17 undeclared kinds refused with CONTENT_NOT_SUPPORTED"
    )
    assert report.result("validate given config").outcome is Outcome.WARN


async def test_the_go_example_is_conformant(go_echo: Path) -> None:
    report = await run_conformance([str(go_echo)], ConformanceOptions(secrets={"api_key": "k"}))
    assert report.passed, report.results
    assert report.adapter == "go-echo 0.1.0 (SMS)"
    assert "|unix|" in report.result("handshake").detail
    assert report.result("send declared kinds").detail == "sent: 1 (text)"


async def test_a_broken_adapter_fails_the_checks_it_breaks() -> None:
    report = await run_conformance(BAD)
    assert not report.passed
    results = outcomes(report)
    failed = {name for name, outcome in results.items() if outcome is Outcome.FAIL}
    assert failed == {
        "validate empty config",
        "refuse undeclared kinds",
        "refuse invalid sends",
        "webhook garbage",
        "other RPCs",
    }, report.results
    assert "violation path 'token'" in report.result("validate empty config").detail
    assert "UNIMPLEMENTED" in report.result("other RPCs").detail
    assert results["graceful shutdown"] is Outcome.PASS


async def test_a_program_that_is_not_an_adapter_fails_at_the_handshake() -> None:
    report = await run_conformance(
        [sys.executable, "-c", "print('hello')"], ConformanceOptions(start_timeout=10)
    )
    assert [(r.name, r.outcome) for r in report.results] == [
        ("handshake", Outcome.FAIL),
        ("health", Outcome.SKIP),
        ("capabilities", Outcome.SKIP),
    ]
    assert "unrecognized plugin handshake line 'hello'" in report.results[0].detail


def test_the_command_line_prints_json_and_sets_the_exit_status() -> None:
    good = subprocess.run(
        [sys.executable, "-m", "linktor.adapterkit.conformance", "--json", "--", *FAKE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert good.returncode == 0, good.stderr
    payload = json.loads(good.stdout)
    assert payload["passed"] is True
    assert payload["checks"][0]["name"] == "handshake"
    bad = subprocess.run(
        [sys.executable, "-m", "linktor.adapterkit.conformance", "--", *BAD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "not conformant" in bad.stdout
    usage = subprocess.run(
        [sys.executable, "-m", "linktor.adapterkit.conformance"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 2
    assert "give the adapter command after --" in usage.stderr
