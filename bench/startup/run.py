"""Embedded `linktor serve`: time from process start to gRPC SERVING, and idle RSS.

Cold: a fresh data dir (migrations run). Warm: the same data dir again. RSS is read with psutil
after the process idled, summed over the process and any children (adapter plugins).

Wall-clock start-up depends on what else the machine runs (our CI machines are shared); the
CPU seconds the process used until it was ready do not, and on an idle machine the wall time
is close to them. Both are recorded, with the load average during the run.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

RUNS = 5
IDLE_SECONDS = 5.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_and_wait(data_dir: Path) -> tuple[subprocess.Popen[bytes], float, str]:
    grpc_addr = f"127.0.0.1:{_free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKTOR_")}
    env.update(
        LINKTOR_DATA_DIR=str(data_dir),
        LINKTOR_GRPC_ADDR=grpc_addr,
        LINKTOR_HTTP_ADDR=f"127.0.0.1:{_free_port()}",
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "linktor.server.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with grpc.insecure_channel(grpc_addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.poll() is not None or time.perf_counter() - started > 60:
                raise RuntimeError("linktor serve did not become ready")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5)  # type: ignore[attr-defined]
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return process, time.perf_counter() - started, grpc_addr
            except grpc.RpcError:
                time.sleep(0.01)


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _rss_bytes(pid: int) -> int:
    parent = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


def _stop(process: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    process.terminate()
    process.wait(timeout=15)
    return time.perf_counter() - started


def main() -> dict[str, Any]:
    cold: list[float] = []
    cold_cpu: list[float] = []
    warm: list[float] = []
    rss: list[int] = []
    stop: list[float] = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            process, seconds, _ = _start_and_wait(Path(tmp))
            cold.append(seconds)
            cold_cpu.append(_cpu_seconds(process.pid))
            time.sleep(IDLE_SECONDS)
            rss.append(_rss_bytes(process.pid))
            stop.append(_stop(process))
            process, seconds, _ = _start_and_wait(Path(tmp))
            warm.append(seconds)
            stop.append(_stop(process))
    return {
        "benchmark": "startup",
        "runs": RUNS,
        "metrics": {
            "cold_start_to_ready_s_median": round(statistics.median(cold), 3),
            "cold_start_to_ready_s_max": round(max(cold), 3),
            "cold_start_cpu_s_median": round(statistics.median(cold_cpu), 3),
            "warm_start_to_ready_s_median": round(statistics.median(warm), 3),
            "idle_rss_mb_median": round(statistics.median(rss) / 2**20, 1),
            "idle_rss_mb_max": round(max(rss) / 2**20, 1),
            "sigterm_to_exit_s_max": round(max(stop), 3),
        },
        "goals": {"cold_start_to_ready_s": 3.0, "idle_rss_mb": 150},
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
