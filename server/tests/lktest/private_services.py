"""A private PostgreSQL + Redis + NATS set, for tests and benchmarks that stop or restart them.

`scripts/services.sh` with its own state directory and free ports: the same binaries and
settings as `make services`, but nobody else's tests run on it, so a fault test may stop
PostgreSQL or restart nats-server without breaking concurrent runs (and other runs cannot
delete this set's streams under a benchmark). Starting one takes a few seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lktest.services import create_pg_database, free_port

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "services.sh"
# Generous: `up` may install binaries on a fresh machine.
UP_TIMEOUT_SECONDS = 900.0
COMMAND_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class PrivateServices:
    state_dir: Path
    pg_port: int
    redis_port: int
    nats_port: int
    nats_monitor_port: int

    @property
    def database_url(self) -> str:
        """The `linktor` role's database (created by services.sh)."""
        return f"postgresql+asyncpg://linktor:linktor@127.0.0.1:{self.pg_port}/linktor"

    @property
    def pg_admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def linktor_env(self, database_url: str | None = None) -> dict[str, str]:
        """Settings that point `linktor serve` / `linktor worker` at this set."""
        return {
            "LINKTOR_DATABASE_URL": database_url or self.database_url,
            "LINKTOR_NATS_URL": self.nats_url,
            "LINKTOR_REDIS_URL": self.redis_url,
        }

    async def create_database(self, prefix: str = "lk") -> str:
        """A new empty database owned by `linktor`; its SQLAlchemy URL."""
        return await create_pg_database(
            prefix, admin_url=self.pg_admin_url, database_url=self.database_url
        )

    def pids(self) -> dict[str, int]:
        """The server processes (PostgreSQL's postmaster, whose children are the backends)."""
        files = {
            "postgres": self.state_dir / "pg" / "data" / "postmaster.pid",
            "nats": self.state_dir / "run" / "nats.pid",
            "redis": self.state_dir / "run" / "redis.pid",
        }
        found = {}
        for name, path in files.items():
            try:
                found[name] = int(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return found

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LINKTOR_SERVICES_DIR=str(self.state_dir),
            LINKTOR_TEST_PG_PORT=str(self.pg_port),
            LINKTOR_TEST_REDIS_PORT=str(self.redis_port),
            LINKTOR_TEST_NATS_PORT=str(self.nats_port),
            LINKTOR_TEST_NATS_MON_PORT=str(self.nats_monitor_port),
        )
        return env

    def run(self, *args: str, timeout: float = COMMAND_TIMEOUT_SECONDS) -> str:
        """`scripts/services.sh ARGS` on this set; raises with its output when it fails."""
        done = subprocess.run(
            [str(SCRIPT), *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"services.sh {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        return done.stdout

    def stop_pg(self, mode: str = "fast") -> None:
        self.run("stop-pg", mode)

    def start_pg(self) -> None:
        self.run("start-pg")

    def stop_nats(self) -> None:
        self.run("stop-nats")

    def start_nats(self) -> None:
        self.run("start-nats")

    def restart_nats(self) -> None:
        self.run("restart-nats")

    def ensure_up(self) -> None:
        """Start whatever is stopped (a no-op when all answer): restores a set after a
        fault injection, whatever state the test left it in."""
        self.run("up", timeout=UP_TIMEOUT_SECONDS)


def _free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:  # bounded: the kernel hands out distinct ports almost always
        ports.add(free_port())
    return sorted(ports)


@contextmanager
def private_services(prefix: str = "lk-private-", attempts: int = 3) -> Iterator[PrivateServices]:
    """Start a private set on free ports; stop it and delete its data afterwards.

    A free port may be taken by someone else between the check and the start (other test
    runs start servers too): the set is then started again on other ports.
    """
    # Short path: the PostgreSQL socket path must stay under ~100 bytes.
    state = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    services = PrivateServices(state, *_free_ports(4))
    try:
        for attempt in range(attempts):
            if attempt:
                services = PrivateServices(state, *_free_ports(4))
            try:
                services.run("up", timeout=UP_TIMEOUT_SECONDS)
                break
            except RuntimeError:
                services.run("down")
                if attempt == attempts - 1:
                    raise
        yield services
    finally:
        try:
            services.run("down")
        finally:
            shutil.rmtree(state, ignore_errors=True)
