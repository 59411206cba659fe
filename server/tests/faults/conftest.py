"""Fault tests: the outbound pipeline under crashes and outages (DESIGN §4 invariants).

They run `linktor serve` / `linktor worker` against a PRIVATE PostgreSQL + NATS + Redis set
(lktest.private_services): they stop PostgreSQL, restart nats-server and kill processes, which
must not disturb other test runs sharing the `make services` instances. Whatever a test does,
the set is started again after it (``restored``), and stopped at the end of the session.

What a test measured (e.g. the crash-window count) is printed in the terminal summary.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lktest.deployment import Deployment, deployment, recording_provider
from lktest.private_services import PrivateServices, private_services

# Lines for the terminal summary (see pytest_terminal_summary below).
REPORT: list[str] = []


@pytest.fixture(scope="session")
def fault_services() -> Iterator[PrivateServices]:
    with private_services("lk-faults-") as services:
        yield services


@pytest.fixture
def restored(fault_services: PrivateServices) -> Iterator[PrivateServices]:
    """The private set, started again after the test whatever happened in it."""
    try:
        yield fault_services
    finally:
        fault_services.ensure_up()


@pytest.fixture(scope="session")
def fault_platform(
    fault_services: PrivateServices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """One `linktor serve` (servers and workers) on the private set, shared by the tests
    that inject faults around it; each test uses its own channel."""
    work = tmp_path_factory.mktemp("fault-platform")
    with deployment(
        "scaled", work, services=fault_services, adapter=recording_provider(work / "provider.jsonl")
    ) as deploy:
        yield deploy


@pytest.fixture
def fault_report() -> list[str]:
    return REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("fault tests")
        for line in REPORT:
            terminalreporter.write_line(line)
