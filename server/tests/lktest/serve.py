"""Running `linktor serve` as a subprocess on free ports, the way users run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from lktest.services import free_port

# A start takes ~2 s on an idle machine; far more on 2 cores shared with other test runs.
READY_TIMEOUT_SECONDS = 60.0


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    grpc_target: str
    http_base: str
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit code (raises if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def serve_env(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKTOR_")}
    env.update(
        LINKTOR_GRPC_ADDR=f"127.0.0.1:{free_port()}",
        LINKTOR_HTTP_ADDR=f"127.0.0.1:{free_port()}",
        LINKTOR_DATA_DIR=str(data_dir),
        LINKTOR_LOG_FORMAT="json",
    )
    env.update(extra or {})
    return env


def wait_serving(target: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"linktor serve exited early with {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)  # type: ignore[attr-defined]
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    raise TimeoutError(f"linktor serve not SERVING on {target} within {timeout}s")


@contextmanager
def running_serve(
    data_dir: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[ServeProcess]:
    """Start `linktor serve`, wait until gRPC health is SERVING, stop it afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = serve_env(data_dir, extra_env)
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "linktor.server.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    handle = ServeProcess(
        process=process,
        grpc_target=env["LINKTOR_GRPC_ADDR"],
        http_base=f"http://{env['LINKTOR_HTTP_ADDR']}",
        data_dir=data_dir,
        log_path=log_path,
    )
    try:
        wait_serving(handle.grpc_target, process, READY_TIMEOUT_SECONDS)
        yield handle
    except BaseException:
        sys.stderr.write(handle.log()[-4000:])
        raise
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
