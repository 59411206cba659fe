"""Send pipeline: SendMessage over gRPC until DELIVERED, embedded and scaled, against its floor.

`python -m bench pipeline` runs the defaults and records bench/results/pipeline-<date>.json;
`python -m bench.pipeline.run --help` shows the knobs (the same run, recorded the same way).
Schema and findings: bench/pipeline/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The benchmark drives the platform with the test-suite's helpers (lktest).
sys.path.insert(0, str(ROOT / "server" / "tests"))

from lktest.deployment import Deployment, StatusProbe, create_channel, deployment  # noqa: E402
from lktest.private_services import PrivateServices, private_services  # noqa: E402

from bench.pipeline.floor import measure_floor  # noqa: E402
from bench.pipeline.load import LoadResult, Sender, closed_loop, open_loop, percentile  # noqa: E402
from bench.pipeline.probes import MemorySampler, delivery_times  # noqa: E402
from bench.pipeline.profile import Recording, summarize  # noqa: E402
from bench.processes import CpuMeter  # noqa: E402

SCHEMA = "linktor.bench.pipeline/v1"
# Goals of issue 4 (2 cores, scaled).
GOAL_DELIVERED_PER_SECOND = 1000
GOAL_FLOOR_SHARE = 0.25
GOAL_OPEN_LOOP_RATE = 500
GOAL_P99_MS = 50
# Processes the floor's CPU cost counts besides the client (the process doing the floor).
FLOOR_SERVICES = ("postgres", "postgres_children", "nats")
# py-spy's raw output of --profile runs (ignored by git).
PROFILES = ROOT / ".artifacts" / "bench"
DRAIN_TIMEOUT_SECONDS = 300.0
# The no-op provider: answers DELIVERED at once (sync_delivery) and records nothing.
NO_OP_ADAPTER = {"LINKTOR_FAKE_SYNC_DELIVERY": "true"}


@dataclass
class Options:
    backends: list[str] = field(default_factory=lambda: ["embedded", "scaled"])
    topology: str = "single"
    messages: int = 10_000
    embedded_messages: int = 5_000
    burst_messages: int = 1_000
    concurrency: int = 64
    recipients: int = 1_000
    open_loop_rate: float = GOAL_OPEN_LOOP_RATE
    open_loop_seconds: float = 20.0
    floor: bool = True
    profile: bool = False


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _steady_rate(times: list[float]) -> float:
    """Deliveries per second between the 10th and the 90th percentile of delivery times:
    the sustained rate, without the ramp-up and the tail."""
    if len(times) < 20:
        return 0.0
    lo, hi = len(times) // 10, len(times) * 9 // 10
    span = times[hi] - times[lo]
    return round((hi - lo) / span) if span > 0 else 0.0


async def _scenario(
    deploy: Deployment,
    probe: StatusProbe,
    sampler: MemorySampler,
    cpu: CpuMeter,
    *,
    channel: str,
    name: str,
    messages: int = 0,
    concurrency: int = 0,
    recipients: int,
    rate: float = 0.0,
    seconds: float = 0.0,
    profile_to: Path | None = None,
) -> dict[str, Any]:
    channel_id = channel.rsplit("/", 1)[-1]
    # Request ids carry the scenario's tag: the probes count this scenario's messages only.
    tag = f"{name}-{time.monotonic_ns()}"
    sender = Sender(deploy.grpc_target, deploy.metadata, channel, recipients=recipients, tag=tag)
    if profile_to:
        profile_to.parent.mkdir(parents=True, exist_ok=True)
    recordings = (
        [
            Recording(pid, profile_to.with_suffix(f".{who}.txt"))
            for who, pid in deploy.pids().items()
        ]
        if profile_to
        else []
    )
    sampler.start()
    cpu.start()
    try:
        if rate:
            load: LoadResult = await open_loop(sender, rate, seconds)
        else:
            load = await closed_loop(sender, messages, concurrency)
        expected = load.sent
        progress = await probe.wait_settled(
            channel_id, expected, DRAIN_TIMEOUT_SECONDS, request_prefix=tag
        )
    finally:
        cpu_seconds = cpu.stop()
        for recording in recordings:
            recording.stop()
        peak = await sampler.stop()
        await sender.close()
    pairs = await delivery_times(probe, channel_id, tag)
    delivered_at = sorted(d for _, d in pairs)
    lag = sorted(d - c for c, d in pairs)
    last = delivered_at[-1] if delivered_at else load.finished
    result: dict[str, Any] = {
        "messages": load.sent + load.errors,
        "concurrency": concurrency or None,
        "offered_per_second": rate or None,
        "recipients": recipients,
        "accepted": load.sent,
        "errors": load.errors,
        "first_error": load.first_error or None,
        "delivered": progress.delivered,
        "failed": progress.failed,
        "accepted_per_second": round(load.sent / load.seconds),
        "delivered_per_second": round(progress.delivered / max(last - load.started, 1e-9)),
        "delivered_per_second_steady": _steady_rate(delivered_at),
        "send_p50_ms": _ms(percentile(load.latencies, 0.5)),
        "send_p99_ms": _ms(percentile(load.latencies, 0.99)),
        "send_max_ms": _ms(load.latencies[-1] if load.latencies else 0.0),
        "accept_to_deliver_p50_ms": _ms(percentile(lag, 0.5)),
        "accept_to_deliver_p99_ms": _ms(percentile(lag, 0.99)),
        "load_seconds": round(load.seconds, 2),
        "drain_seconds": round(max(last - load.finished, 0.0), 2),
        "peak_rss_mb": peak,
        **_cpu_summary(cpu_seconds, progress.delivered),
    }
    if recordings:
        result["profile"] = {
            who: summarize(r.output) for who, r in zip(deploy.pids(), recordings, strict=True)
        }
        result["profile_raw"] = [str(r.output) for r in recordings]
    shown = {k: v for k, v in result.items() if k != "profile"}
    print(f"  {deploy.backend}/{name}: {json.dumps(shown)}", file=sys.stderr)
    return result


def _cpu_summary(seconds: dict[str, float], messages: int) -> dict[str, Any]:
    """CPU milliseconds per delivered message by process, and the rate that CPU would allow
    on 2 dedicated cores (the client elsewhere): no Python process may need more than one
    core (one event loop each), and all of them together no more than two."""
    if not messages:
        return {}
    # The client's children are the platform's processes, counted under their own names.
    seconds = {k: v for k, v in seconds.items() if k != "bench_client_children"}
    per = {name: round(value * 1000 / messages, 3) for name, value in sorted(seconds.items())}
    platform = {k: v for k, v in per.items() if not k.startswith("bench_client")}
    total = sum(platform.values())
    python = [v for k, v in platform.items() if k in ("serve", "worker")] + [
        v
        for k, v in platform.items()
        if k.endswith("_children") and k.split("_")[0] in ("serve", "worker")
    ]
    bound = min([2000 / total] + [1000 / v for v in python if v > 0]) if total else 0.0
    return {
        "cpu_ms_per_message": per,
        "platform_cpu_ms_per_message": round(total, 3),
        "projected_per_second_2_cores": round(bound),
    }


async def _backend_run(
    deploy: Deployment, options: Options, services: PrivateServices | None
) -> dict[str, Any]:
    probe = StatusProbe(deploy.database_url)
    sampler = MemorySampler(deploy.pids())
    cpu_pids = {**deploy.pids(), "bench_client": os.getpid()}
    if deploy.backend == "scaled" and services is not None:
        cpu_pids.update(services.pids())
    cpu = CpuMeter(cpu_pids)
    scaled = deploy.backend == "scaled"
    out: dict[str, Any] = {"topology": deploy.topology}
    # One channel: the first scenario meets every recipient for the first time (contact and
    # conversation created); the next ones send into those conversations.
    channel = await create_channel(deploy)
    scenario = functools.partial(_scenario, deploy, probe, sampler, cpu, channel=channel)
    out["first_contact"] = await scenario(
        name="first", messages=options.recipients,
        concurrency=options.concurrency, recipients=options.recipients,
    )  # fmt: skip
    out["many_conversations"] = await scenario(
        name="many",
        messages=options.messages if scaled else options.embedded_messages,
        concurrency=options.concurrency, recipients=options.recipients,
        profile_to=PROFILES / f"pipeline-{deploy.backend}" if options.profile else None,
    )  # fmt: skip
    out["one_conversation"] = await scenario(
        name="burst", messages=options.burst_messages,
        concurrency=options.concurrency, recipients=1,
    )  # fmt: skip
    if scaled and options.open_loop_rate:
        out[f"open_loop_{int(options.open_loop_rate)}"] = await scenario(
            name="open", recipients=options.recipients,
            rate=options.open_loop_rate, seconds=options.open_loop_seconds,
        )  # fmt: skip
    if scaled and options.floor and services is not None:
        assert deploy.database_url.startswith("postgresql")
        nats_url = services.nats_url
        cpu.start()
        floor = await measure_floor(
            deploy.database_url, nats_url, options.messages, options.concurrency
        )
        # The floor's application is this process; its database and bus are the same ones.
        spent = cpu.stop()
        floor_cpu = sum(spent.get(k, 0.0) for k in ("bench_client", *FLOOR_SERVICES))
        floor["cpu_ms_per_message"] = round(floor_cpu * 1000 / options.messages, 3)
        out["floor"] = floor
        many = out["many_conversations"]
        out["pipeline_to_floor"] = round(
            many["delivered_per_second_steady"] / floor["per_second"], 3
        )
        if many.get("platform_cpu_ms_per_message"):
            # The same ratio from CPU cost: on a machine to itself, the rates would relate so.
            out["pipeline_to_floor_by_cpu"] = round(
                floor["cpu_ms_per_message"] / many["platform_cpu_ms_per_message"], 3
            )
        print(f"  floor: {json.dumps(floor)}", file=sys.stderr)
    return out


def _goals(metrics: dict[str, Any], options: Options) -> dict[str, Any]:
    scaled = metrics.get("scaled")
    if not scaled:
        return {}
    many = scaled["many_conversations"]
    goals: dict[str, Any] = {
        "delivered_per_second_steady": many["delivered_per_second_steady"],
        "delivered_per_second_goal": GOAL_DELIVERED_PER_SECOND,
        "delivered_goal_met": many["delivered_per_second_steady"] >= GOAL_DELIVERED_PER_SECOND,
    }
    if "pipeline_to_floor" in scaled:
        goals["pipeline_to_floor"] = scaled["pipeline_to_floor"]
        goals["floor_goal_met"] = scaled["pipeline_to_floor"] >= GOAL_FLOOR_SHARE
    open_key = f"open_loop_{int(options.open_loop_rate)}"
    if open_key in scaled:
        p99 = scaled[open_key]["send_p99_ms"]
        goals["open_loop_p99_ms"] = p99
        goals["open_loop_p99_goal_met"] = (
            p99 <= GOAL_P99_MS and options.open_loop_rate >= GOAL_OPEN_LOOP_RATE
        )
    return goals


def _interrupt_on_sigterm() -> None:
    """SIGTERM (timeout, CI cancel) unwinds like Ctrl-C, so the private services and the
    platform processes are stopped by the context managers below."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def measure(options: Options) -> dict[str, Any]:
    _interrupt_on_sigterm()
    metrics: dict[str, Any] = {}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lk-bench-")))
        services: PrivateServices | None = None
        if "scaled" in options.backends:
            services = stack.enter_context(private_services("lk-bench-"))
        for backend in options.backends:
            print(f"pipeline: {backend} ({options.topology})", file=sys.stderr)
            with deployment(
                backend, work, services=services, topology=options.topology, adapter=NO_OP_ADAPTER
            ) as deploy:
                metrics[backend] = asyncio.run(_backend_run(deploy, options, services))
    return {
        "benchmark": "pipeline",
        "schema": SCHEMA,
        "description": (__doc__ or "").splitlines()[0],
        "parameters": asdict(options),
        "metrics": metrics,
        "goals": _goals(metrics, options),
        "load_average": list(os.getloadavg()),
    }


def _parse(argv: list[str]) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline.run", description=__doc__)
    parser.add_argument("--backends", default=",".join(defaults.backends), help="embedded,scaled")
    parser.add_argument(
        "--topology",
        choices=["single", "split"],
        default=defaults.topology,
        help="single: one `linktor serve`; split: serve without workers + `linktor worker`",
    )
    parser.add_argument(
        "--messages", type=int, default=defaults.messages, help="scaled, many conversations"
    )
    parser.add_argument("--embedded-messages", type=int, default=defaults.embedded_messages)
    parser.add_argument(
        "--burst-messages", type=int, default=defaults.burst_messages, help="one conversation"
    )
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--recipients", type=int, default=defaults.recipients)
    parser.add_argument(
        "--open-loop-rate", type=float, default=defaults.open_loop_rate, help="0: skip"
    )
    parser.add_argument("--open-loop-seconds", type=float, default=defaults.open_loop_seconds)
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the server in the scaled many run"
    )
    parser.add_argument(
        "--no-record", action="store_true", help="print only, write no results file"
    )
    args = parser.parse_args(argv)
    return Options(
        backends=[b.strip() for b in args.backends.split(",") if b.strip()],
        topology=args.topology,
        messages=args.messages,
        embedded_messages=args.embedded_messages,
        burst_messages=args.burst_messages,
        concurrency=args.concurrency,
        recipients=args.recipients,
        open_loop_rate=args.open_loop_rate,
        open_loop_seconds=args.open_loop_seconds,
        floor=not args.no_floor,
        profile=args.profile,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point of `python -m bench pipeline` (defaults) and of the CLI below."""
    return measure(_parse(argv or []))


if __name__ == "__main__":
    from bench.__main__ import record

    cli_args = sys.argv[1:]
    started = time.monotonic()
    outcome = main(cli_args)
    if "--no-record" in cli_args:
        print(json.dumps(outcome, indent=2))
    else:
        record("pipeline", outcome)
    print(f"pipeline benchmark took {time.monotonic() - started:.0f}s", file=sys.stderr)
