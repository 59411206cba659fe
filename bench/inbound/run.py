"""Inbound webhooks: status callbacks and inbound messages through `linktor serve`, scaled mode.

`python -m bench inbound` runs the defaults and records bench/results/inbound-<date>.json;
`python -m bench.inbound.run --help` shows the knobs. Schema and findings:
bench/inbound/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The benchmark drives the platform with the test-suite's helpers (lktest).
sys.path.insert(0, str(ROOT / "server" / "tests"))

import grpc  # noqa: E402
from lktest.deployment import Deployment, deployment  # noqa: E402
from lktest.private_services import private_services  # noqa: E402

from bench.inbound.fanout import measure_fanout  # noqa: E402
from bench.inbound.load import LoadResult, Webhook, open_loop, percentile, prepare  # noqa: E402
from bench.inbound.probes import ProcessMeter  # noqa: E402
from bench.inbound.seed import Database  # noqa: E402
from linktor.v1 import channel_pb2, channel_pb2_grpc, common_pb2  # noqa: E402

SCHEMA = "linktor.bench.inbound/v1"
SECRET = "bench-secret"
# Meta's ask of a webhook server, and issue 5's target on 2 cores.
GOAL_STATUS_PER_SECOND = 3000
GOAL_P50_MS = 250
GOAL_OVER_1S_SHARE = 0.01
DRAIN_TIMEOUT_SECONDS = 300.0
# Status callbacks for one message come in blocks: its DELIVERED, then (a block later) its READ.
STATUS_BLOCK = 500


@dataclass
class Options:
    rates: list[float] = field(default_factory=lambda: [200.0, 400.0, 800.0])
    seconds: float = 20.0
    inbound_share: float = 0.1
    senders: int = 200
    connections: int = 128
    warmup_rate: float = 300.0
    warmup_seconds: float = 5.0
    topology: str = "single"
    fanout_streams: int = 100
    fanout_events: int = 50
    fanout_rate: float = 5.0


async def create_channel(deploy: Deployment, name: str) -> channel_pb2.Channel:
    """An SMS channel on the fake adapter, its webhooks signed with SECRET."""
    async with grpc.aio.insecure_channel(deploy.grpc_target) as rpc:
        made: channel_pb2.Channel = await channel_pb2_grpc.ChannelServiceStub(rpc).CreateChannel(
            channel_pb2.CreateChannelRequest(
                parent=deploy.tenant,
                channel=channel_pb2.Channel(
                    display_name=name,
                    type=common_pb2.CHANNEL_TYPE_SMS,
                    secrets={"webhook_secret": SECRET},
                    rate_limit=common_pb2.RateLimit(per_second=100_000, burst=100_000),
                ),
            ),
            metadata=deploy.metadata,
            timeout=60,
        )
    return made


def local_url(channel: channel_pb2.Channel, deploy: Deployment) -> str:
    """The channel's webhook URL on this serve process."""
    return deploy.serve.http_base + "/webhooks/" + channel.webhook_url.rsplit("/webhooks/", 1)[1]


def build_webhooks(
    url: str, prefix: str, total: int, inbound_share: float, senders: int
) -> tuple[list[Webhook], int, int]:
    """``total`` webhooks, one event each: status callbacks for the seeded messages
    (DELIVERED then READ, per block) with an inbound message every 1/inbound_share; returns
    them, the number of seeded messages they need and the number of inbound messages."""
    every = round(1 / inbound_share) if inbound_share > 0 else 0
    webhooks: list[Webhook] = []
    statuses = inbound = 0
    for n in range(total):
        if every and n % every == every - 1:
            key = f"{prefix}in-{inbound}"
            sender = f"+1557{inbound % senders:07d}"
            event: dict[str, object] = {"type": "message", "id": key, "from": sender, "text": key}
            inbound += 1
        else:
            block, offset = divmod(statuses, 2 * STATUS_BLOCK)
            read = offset >= STATUS_BLOCK
            message = block * STATUS_BLOCK + offset % STATUS_BLOCK
            pid = f"{prefix}{message + 1}"
            key = pid if read else f"d-{pid}"
            status = "read" if read else "delivered"
            event = {"type": "status", "id": pid, "status": status}
            statuses += 1
        webhooks.append(prepare(url, SECRET, key, [event]))
    # The last block may be cut short: only its messages that got a READ count.
    full, rest = divmod(statuses, 2 * STATUS_BLOCK)
    reads = full * STATUS_BLOCK + max(0, rest - STATUS_BLOCK)
    return webhooks, reads, inbound


def inversions(order: list[tuple[str, str, int]]) -> tuple[int, int]:
    """Inbound messages stored out of send order within their conversation, and pairs
    compared: (address, provider id 'in-<n>', seq) rows in seq order per conversation."""
    by_sender: dict[str, list[int]] = {}
    for address, pid, _seq in order:
        by_sender.setdefault(address, []).append(int(pid.rsplit("-", 1)[1]))
    out = pairs = 0
    for numbers in by_sender.values():
        for a, b in itertools.pairwise(numbers):
            pairs += 1
            out += a > b
    return out, pairs


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def _step(
    deploy: Deployment,
    db: Database,
    meter: ProcessMeter,
    options: Options,
    *,
    name: str,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    channel = await create_channel(deploy, name)
    channel_id = channel.name.rsplit("/", 1)[-1]
    prefix = f"{name}-{channel_id[-6:]}-"
    total = int(rate * seconds)
    webhooks, reads, inbound = build_webhooks(
        local_url(channel, deploy), prefix, total, options.inbound_share, options.senders
    )
    seeded = math.ceil(total / 2) + STATUS_BLOCK
    await db.seed(deploy.grpc_target, deploy.metadata, channel.name, prefix, seeded)
    await db.wait_outbox_empty(60)
    meter.start()
    try:
        load: LoadResult = await open_loop(
            local_url(channel, deploy), webhooks, rate, options.connections
        )
        got = await db.wait_processed(channel_id, prefix, reads, inbound, DRAIN_TIMEOUT_SECONDS)
        stored_done = time.time()
    finally:
        cpu_seconds, peak = await meter.stop()
    events_relayed = await db.wait_outbox_empty(DRAIN_TIMEOUT_SECONDS)
    events_done = time.time()
    stored = await db.stored_times(channel_id, prefix)
    lags = sorted(stored[key] - acked for key, acked in load.acked_at.items() if key in stored)
    last_stored = max(stored.values()) if stored else stored_done
    out_of_order, pairs = inversions(await db.inbound_order(channel_id))
    lat = load.latencies
    over_1s = sum(1 for x in lat if x > 1.0) / max(len(lat), 1)
    result: dict[str, Any] = {
        "offered_per_second": rate,
        "webhooks": total,
        "status_callbacks": total - inbound,
        "inbound_messages": inbound,
        "acknowledged": load.acknowledged,
        "errors": load.errors,
        "first_error": load.first_error or None,
        "acknowledged_per_second": round(load.acknowledged / load.seconds),
        "status_callbacks_acknowledged_per_second": round(
            load.acknowledged * (1 - inbound / max(total, 1)) / load.seconds
        ),
        "ack_p50_ms": _ms(percentile(lat, 0.5)),
        "ack_p99_ms": _ms(percentile(lat, 0.99)),
        "ack_max_ms": _ms(lat[-1] if lat else 0.0),
        "ack_over_1s_share": round(over_1s, 4),
        "reads_stored": got[0],
        "reads_expected": reads,
        "inbound_stored": got[1],
        "all_processed": got[0] >= reads and got[1] >= inbound,
        "processed_per_second": round(load.acknowledged / max(last_stored - load.started, 1e-9)),
        "ack_to_stored_p50_ms": _ms(percentile(lags, 0.5)),
        "ack_to_stored_p99_ms": _ms(percentile(lags, 0.99)),
        "drain_after_load_s": round(max(last_stored - load.finished, 0.0), 2),
        "events_relayed_after_load_s": round(events_done - load.finished, 2)
        if events_relayed
        else None,
        "inbound_out_of_order": out_of_order,
        "inbound_pairs_checked": pairs,
        "peak_rss_mb": peak,
        **_cpu_summary(cpu_seconds, load.acknowledged, events_done - load.started),
    }
    print(f"  inbound/{name}: {json.dumps(result)}", file=sys.stderr)
    return result


def _cpu_summary(seconds: dict[str, float], webhooks: int, elapsed: float) -> dict[str, Any]:
    """CPU per webhook by process, from the load's start until every event was relayed:
    on a shared machine far steadier than rates (N webhooks/s need N x this many cores)."""
    per = {name: round(s * 1000 / max(webhooks, 1), 3) for name, s in seconds.items()}
    platform = sum(v for k, v in per.items() if k != "bench_client")
    return {
        "cpu_ms_per_webhook": per,
        "platform_cpu_ms_per_webhook": round(platform, 3),
        "platform_cores_busy": round(platform * webhooks / 1000 / max(elapsed, 1e-9), 2),
    }


async def _fanout(deploy: Deployment, options: Options) -> dict[str, Any]:
    channel = await create_channel(deploy, "fanout")
    url = local_url(channel, deploy)
    inbound = []
    for n in range(options.fanout_events):
        key = f"fan-in-{n}"
        sender = f"+1558{n % 50:07d}"
        event: dict[str, object] = {"type": "message", "id": key, "from": sender, "text": key}
        inbound.append(prepare(url, SECRET, key, [event]))
    result = await measure_fanout(
        deploy.grpc_target,
        deploy.metadata,
        deploy.tenant,
        channel.name,
        url,
        inbound,
        streams=options.fanout_streams,
        sends=options.fanout_events,
        rate=options.fanout_rate,
    )
    print(f"  inbound/fanout: {json.dumps(result)}", file=sys.stderr)
    return result


async def _run(
    deploy: Deployment, options: Options, service_pids: dict[str, int]
) -> dict[str, Any]:
    db = Database(deploy.database_url)
    # The platform's processes are children of this one: the client's own time only.
    meter = ProcessMeter(
        {**deploy.pids(), **service_pids, "bench_client": os.getpid()},
        own_only=frozenset({"bench_client"}),
    )
    out: dict[str, Any] = {}
    try:
        await _step(
            deploy, db, meter, options, name="warmup",
            rate=options.warmup_rate, seconds=options.warmup_seconds,
        )  # fmt: skip
        for rate in options.rates:
            out[f"open_loop_{int(rate)}"] = await _step(
                deploy, db, meter, options, name=f"r{int(rate)}",
                rate=rate, seconds=options.seconds,
            )  # fmt: skip
        if options.fanout_streams:
            out["fanout"] = await _fanout(deploy, options)
    finally:
        await db.close()
    return out


def _goals(metrics: dict[str, Any]) -> dict[str, Any]:
    """The highest offered rate whose status callbacks met Meta's latency ask, all processed."""
    met = [
        step
        for key, step in metrics.items()
        if key.startswith("open_loop_")
        and step["ack_p50_ms"] <= GOAL_P50_MS
        and step["ack_over_1s_share"] < GOAL_OVER_1S_SHARE
        and step["all_processed"]
        and not step["errors"]
    ]
    best = max((s["status_callbacks_acknowledged_per_second"] for s in met), default=0)
    return {
        "status_callbacks_per_second_within_latency": best,
        "status_callbacks_per_second_goal": GOAL_STATUS_PER_SECOND,
        "goal_met": best >= GOAL_STATUS_PER_SECOND,
        "latency_goal": f"p50 <= {GOAL_P50_MS} ms, under {GOAL_OVER_1S_SHARE:.0%} over 1 s",
    }


def measure(options: Options) -> dict[str, Any]:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lk-bench-in-")))
        services = stack.enter_context(private_services("lk-bench-in-"))
        deploy = stack.enter_context(
            deployment("scaled", work, services=services, topology=options.topology)
        )
        metrics = asyncio.run(_run(deploy, options, services.pids()))
    return {
        "benchmark": "inbound",
        "schema": SCHEMA,
        "description": (__doc__ or "").splitlines()[0],
        "parameters": asdict(options),
        "metrics": metrics,
        "goals": _goals(metrics),
        "load_average": list(os.getloadavg()),
    }


def _parse(argv: list[str]) -> Options:
    d = Options()
    parser = argparse.ArgumentParser(prog="python -m bench.inbound.run", description=__doc__)
    parser.add_argument("--rates", default=",".join(str(int(r)) for r in d.rates),
                        help="offered webhooks/s, one open-loop step each")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=d.seconds, help="per step")
    parser.add_argument("--inbound-share", type=float, default=d.inbound_share)
    parser.add_argument("--senders", type=int, default=d.senders)
    parser.add_argument("--connections", type=int, default=d.connections)
    parser.add_argument("--topology", choices=["single", "split"], default=d.topology,
                        help="split: serve without workers beside `linktor worker`")  # fmt: skip
    parser.add_argument("--fanout-streams", type=int, default=d.fanout_streams, help="0: skip")
    parser.add_argument("--fanout-events", type=int, default=d.fanout_events)
    parser.add_argument("--no-record", action="store_true", help="print only, write no file")
    args = parser.parse_args(argv)
    return Options(
        rates=[float(r) for r in args.rates.split(",") if r.strip()],
        seconds=args.seconds,
        inbound_share=args.inbound_share,
        senders=args.senders,
        connections=args.connections,
        topology=args.topology,
        fanout_streams=args.fanout_streams,
        fanout_events=args.fanout_events,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point of `python -m bench inbound` (defaults) and of the CLI below."""
    return measure(_parse(argv or []))


def _record(result: dict[str, Any]) -> Path:
    """What `python -m bench` does with a result: stamp it and write it under results/."""
    from bench.__main__ import RESULTS, machine

    result["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = machine()
    path = RESULTS / f"inbound-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


if __name__ == "__main__":
    cli_args = sys.argv[1:]
    started = time.monotonic()
    outcome = main(cli_args)
    print(json.dumps(outcome, indent=2))
    if "--no-record" not in cli_args:
        print(f"recorded {_record(outcome).relative_to(ROOT)}", file=sys.stderr)
    print(f"inbound benchmark took {time.monotonic() - started:.0f}s", file=sys.stderr)
