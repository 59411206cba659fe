"""REST through the standalone gateway vs direct gRPC, same unary RPC, same run.

    .venv/bin/python -m bench.gateway.run [--seconds 10] [--workers 32] [--rounds 2] [--profile]

(from the repository root).

Starts the backend (backend.py) and ``linktor-gateway`` as subprocesses on 127.0.0.1,
then alternates closed-loop rounds of direct gRPC and of REST through the gateway against
linktor.v1.ContactService/GetContact; then the same against one process serving both
(embedded.py: REST through LocalInvoker, as in ``linktor serve``), and writes
bench/results/gateway-unary.json
(schema in bench/gateway/README.md). With --profile the gateway runs under cProfile and
the functions where it spends its time are printed and stored with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import grpc
import psutil
from grpc_tools import protoc  # type: ignore[import-untyped, unused-ignore]

from bench.gateway.load import Sample, grpc_caller, http_caller, run_closed_loop

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results" / "gateway-unary.json"
NAME = "tenants/t1/contacts/c1"
PATH = f"/v1/{NAME}"
SCHEMA = "linktor.bench.gateway/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descriptor_set(out: Path) -> Path:
    target = out / "linktor.binpb"
    files = sorted(str(p.relative_to(REPO / "proto")) for p in (REPO / "proto").rglob("*.proto"))
    args = [
        "protoc",
        f"-I{REPO / 'proto'}",
        f"-I{REPO / 'third_party'}",
        f"-I{resources.files('grpc_tools') / '_proto'}",
    ]
    args += ["--include_imports", f"--descriptor_set_out={target}", *files]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return target


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listening on 127.0.0.1:{port}")


def summary(sample: Sample) -> dict[str, Any]:
    return {
        "requests": len(sample.latencies),
        "errors": sample.errors,
        "seconds": round(sample.seconds, 3),
        "throughput_rps": round(sample.throughput, 1),
        "p50_ms": round(sample.percentile(0.50) * 1000, 3),
        "p99_ms": round(sample.percentile(0.99) * 1000, 3),
    }


def merge(samples: list[Sample]) -> Sample:
    return Sample(
        [x for s in samples for x in s.latencies],
        sum(s.errors for s in samples),
        sum(s.seconds for s in samples),
    )


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


class CpuMeter:
    """CPU seconds each process spent during the measured rounds of each kind."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self.processes = processes
        self.spent: dict[str, dict[str, float]] = {}

    def start(self) -> dict[str, float]:
        return {name: cpu_seconds(p) for name, p in self.processes.items()}

    def stop(self, kind: str, before: dict[str, float], requests: int) -> None:
        spent = self.spent.setdefault(kind, dict.fromkeys(self.processes, 0.0))
        for name, process in self.processes.items():
            spent[name] += cpu_seconds(process) - before[name]
        self.spent[kind]["requests"] = self.spent[kind].get("requests", 0) + requests

    def per_request_us(self) -> dict[str, dict[str, float]]:
        out = {}
        for kind, spent in self.spent.items():
            requests = spent["requests"] or 1
            out[kind] = {
                name: round(seconds / requests * 1e6, 1)
                for name, seconds in spent.items()
                if name != "requests"
            }
        return out


async def measure(
    targets: dict[str, tuple[str, int]], args: argparse.Namespace, meter: CpuMeter
) -> dict[str, Sample]:
    """Alternating rounds over ``targets``: kind -> ("grpc" | "http", port)."""
    runs: dict[str, list[Sample]] = {kind: [] for kind in targets}
    channels = {
        port: grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        for t, port in targets.values()
        if t == "grpc"
    }
    callers = {
        kind: grpc_caller(channels[port], NAME)
        if protocol == "grpc"
        else http_caller("127.0.0.1", port, PATH)
        for kind, (protocol, port) in targets.items()
    }
    for kind, caller in callers.items():
        await run_closed_loop(caller, args.workers, args.warmup)
        print(f"warmed up {kind}", file=sys.stderr)
    for round_index in range(args.rounds):
        for kind, caller in callers.items():
            before = meter.start()
            sample = await run_closed_loop(caller, args.workers, args.seconds)
            meter.stop(kind, before, len(sample.latencies))
            runs[kind].append(sample)
            print(f"round {round_index + 1} {kind}: {summary(sample)}", file=sys.stderr)
    for channel in channels.values():
        await channel.close(None)
    return {kind: merge(samples) for kind, samples in runs.items()}


def run_embedded(args: argparse.Namespace) -> tuple[dict[str, Sample], dict[str, dict[str, float]]]:
    """gRPC and REST served by one process, REST calling the handler in process."""
    grpc_port, http_port = free_port(), free_port()
    command = [sys.executable, "-m", "bench.gateway.embedded"]
    command += ["--grpc-port", str(grpc_port), "--http-port", str(http_port)]
    server = subprocess.Popen(command)
    try:
        wait_port(grpc_port)
        wait_port(http_port)
        meter = CpuMeter({"client": psutil.Process(), "server": psutil.Process(server.pid)})
        targets = {"grpc_embedded": ("grpc", grpc_port), "rest_embedded": ("http", http_port)}
        results = asyncio.run(measure(targets, args, meter))
    finally:
        server.terminate()
        server.wait(30)
    return results, meter.per_request_us()


def top_functions(profile: Path, count: int = 25) -> list[dict[str, Any]]:
    stats = pstats.Stats(str(profile), stream=io.StringIO())
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(file).name}:{line}:{function}",
                "calls": calls,
                "tottime_s": round(tottime, 3),
                "cumtime_s": round(cumtime, 3),
                "tottime_share": round(tottime / total, 4) if total else 0,
            }
        )
    rows.sort(key=lambda r: r["tottime_s"], reverse=True)
    return rows[:count]


def _ratio(results: dict[str, Sample], rest: str, direct: str) -> float | None:
    if rest not in results or not results[direct].throughput:
        return None
    return round(results[rest].throughput / results[direct].throughput, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured round")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2, help="alternating gRPC/REST rounds")
    parser.add_argument("--workers", type=int, default=32, help="concurrent closed-loop clients")
    parser.add_argument("--profile", action="store_true", help="run the gateway under cProfile")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-embedded", action="store_true", help="skip the in-process REST run")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    grpc_port, http_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        fds = descriptor_set(Path(tmp))
        profile = Path(tmp) / "gateway.prof"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        backend = subprocess.Popen(
            [sys.executable, "-m", "bench.gateway.backend", "--port", str(grpc_port)],
            env=env,
        )
        gateway_cmd = [sys.executable]
        if args.profile:
            gateway_cmd += ["-m", "cProfile", "-o", str(profile)]
        gateway_cmd += [
            "-m",
            "linktor.gateway.cli",
            "--descriptor-set",
            str(fds),
            "--grpc-target",
            f"127.0.0.1:{grpc_port}",
        ]
        gateway_cmd += ["--listen", f"127.0.0.1:{http_port}", "--no-docs", "--log-level", "warning"]
        gateway = subprocess.Popen(gateway_cmd, env=env)
        try:
            wait_port(grpc_port)
            wait_port(http_port)
            processes = {
                "client": psutil.Process(),
                "backend": psutil.Process(backend.pid),
                "gateway": psutil.Process(gateway.pid),
            }
            meter = CpuMeter(processes)
            targets = {"grpc": ("grpc", grpc_port), "rest_gateway": ("http", http_port)}
            results = asyncio.run(measure(targets, args, meter))
        finally:
            # SIGINT: uvicorn stops, main() returns normally and cProfile writes its file.
            gateway.send_signal(signal.SIGINT)
            gateway.wait(30)
            backend.terminate()
            backend.wait(30)
        hot = top_functions(profile) if args.profile and profile.exists() else []
    cpu = meter.per_request_us()
    if not args.no_embedded:
        embedded, embedded_cpu = run_embedded(args)
        results.update(embedded)
        cpu.update(embedded_cpu)

    grpc_result, rest_result = summary(results["grpc"]), summary(results["rest_gateway"])
    ratio = (
        rest_result["throughput_rps"] / grpc_result["throughput_rps"]
        if grpc_result["throughput_rps"]
        else 0.0
    )
    record = {
        "schema": SCHEMA,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # 1-minute load average before and after: other work on the machine skews
            # throughput far more than CPU per request.
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "config": {
            "rpc": "linktor.v1.ContactService/GetContact",
            "http": f"GET {PATH}",
            "workers": args.workers,
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
            "profiled": args.profile,
        },
        "results": {kind: summary(sample) for kind, sample in results.items()},
        "rest_to_grpc_throughput": round(ratio, 3),
        "embedded_rest_to_grpc_throughput": _ratio(results, "rest_embedded", "grpc_embedded"),
        "goal": 0.7,
        "goal_met": ratio >= 0.7,
        "cpu_us_per_request": cpu,
        "gateway_profile_top": hot,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    keys = (
        "results",
        "rest_to_grpc_throughput",
        "embedded_rest_to_grpc_throughput",
        "goal_met",
        "cpu_us_per_request",
    )
    print(json.dumps({k: record[k] for k in keys}, indent=2))
    for row in hot[:15]:
        print(f"{row['tottime_share']:7.2%}  {row['function']}", file=sys.stderr)


if __name__ == "__main__":
    main()
