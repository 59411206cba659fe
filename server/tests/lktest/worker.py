"""Running `linktor worker` (relay, delivery workers, sweeper; no servers) as a subprocess,
beside a `linktor serve` started with LINKTOR_WORKERS=false: the scale-out topology, and the
process fault tests kill."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lktest.serve import serve_env

READY_LINE = "linktor worker ready"
READY_TIMEOUT_SECONDS = 60.0


@dataclass
class WorkerProcess:
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Start it and wait for its ready line (appending to the same log)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        seen = self.log().count(READY_LINE)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "linktor.server.cli", "worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while self.log().count(READY_LINE) <= seen:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"linktor worker exited with {self.process.returncode}:\n{self.log()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"linktor worker not ready within {timeout}s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, like an OOM kill or a power cut of the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running_worker(
    data_dir: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[WorkerProcess]:
    """`linktor worker` sharing ``data_dir`` (its key files) with the serve process."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # Readiness is its info-level log line: the level stays at info whatever the caller set.
    env = {**serve_env(data_dir, extra_env), "LINKTOR_LOG_LEVEL": "info"}
    worker = WorkerProcess(env, data_dir / "worker.log")
    try:
        worker.start()
        yield worker
    except BaseException:
        sys.stderr.write(worker.log()[-4000:])
        raise
    finally:
        worker.stop()
        worker.kill()
