"""A Linktor deployment as users run it, for fault tests and the pipeline benchmark.

Embedded: one `linktor serve` on SQLite and the in-process bus. Scaled: PostgreSQL, NATS
JetStream and Redis (usually a private set, see private_services), with either one
`linktor serve` doing everything (``single``) or a `linktor serve` with LINKTOR_WORKERS=false
beside a `linktor worker` (``split``). SMS channels are served by the fake adapter process.
A tenant on the enterprise plan holds an API key; the API's rate limits are lifted (the
tests and the benchmark load the pipeline, not the limiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from google.protobuf import struct_pb2

from linktor.v1 import channel_pb2, channel_pb2_grpc, common_pb2
from lktest.private_services import PrivateServices
from lktest.serve import ServeProcess, running_serve, serve_env
from lktest.worker import WorkerProcess, running_worker

UNLIMITED = "1000000"
# Row-level security hides every tenant's rows from a session that names none (ADR 0006);
# probes read across tenants like the platform's background workers do.
BYPASS_RLS = "SELECT set_config('linktor.bypass_rls', 'on', false)"


@dataclass
class Deployment:
    backend: str
    topology: str
    serve: ServeProcess
    worker: WorkerProcess | None
    tenant: str
    metadata: tuple[tuple[str, str], ...]
    data_dir: Path
    # PostgreSQL URL (scaled) or the SQLite file path (embedded).
    database_url: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def grpc_target(self) -> str:
        return self.serve.grpc_target

    def pids(self) -> dict[str, int]:
        """The platform's processes (adapters are their children)."""
        pids = {"serve": self.serve.process.pid}
        if self.worker is not None:
            pids["worker"] = self.worker.pid
        return pids


# Retries fast enough that a flaky provider's worst case stays within a test's bounds.
FAST_RETRIES = {
    "LINKTOR_DELIVERY_RETRY_BASE_SECONDS": "0.2",
    "LINKTOR_DELIVERY_RETRY_MAX_DELAY_SECONDS": "2",
}


def recording_provider(log: Path, **knobs: str) -> dict[str, str]:
    """Settings for a fake provider that answers DELIVERED and records every Send in
    ``log`` (knobs: LINKTOR_FAKE_<NAME>), with fast retries."""
    env = {"LINKTOR_FAKE_ADAPTER_LOG": str(log), "LINKTOR_FAKE_SYNC_DELIVERY": "true"}
    env.update({f"LINKTOR_FAKE_{k.upper()}": v for k, v in knobs.items()})
    return {**env, **FAST_RETRIES}


def platform_env(
    backend: str,
    services: PrivateServices | None,
    database_url: str,
    adapter: Mapping[str, str],
) -> dict[str, str]:
    env = {
        "LINKTOR_ADAPTER_COMMANDS": json.dumps(
            {"sms": [sys.executable, "-m", "linktor.adapters.fake"]}
        ),
        "LINKTOR_FAKE_CHANNEL_TYPE": "sms",
        "LINKTOR_RATE_LIMIT_TENANT_PER_SECOND": UNLIMITED,
        "LINKTOR_RATE_LIMIT_TENANT_BURST": UNLIMITED,
        "LINKTOR_RATE_LIMIT_API_KEY_PER_SECOND": UNLIMITED,
        "LINKTOR_RATE_LIMIT_API_KEY_BURST": UNLIMITED,
        "LINKTOR_LOG_LEVEL": "warning",
        **adapter,
    }
    if backend == "scaled":
        assert services is not None
        env.update(services.linktor_env(database_url))
        env["LINKTOR_MIGRATE_ON_START"] = "true"
    return env


def create_tenant(data_dir: Path, env: Mapping[str, str]) -> tuple[str, str]:
    """An enterprise tenant (no monthly message allowance); its name and API key secret."""
    made = subprocess.run(
        [
            sys.executable, "-m", "linktor.server.cli", "tenant", "create",
            "--name", "Load", "--owner-email", "owner@load.example", "--plan", "enterprise",
        ],
        env=serve_env(data_dir, env), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"tenant create failed: {made.stderr}")
    answer = json.loads(made.stdout)
    return str(answer["tenant"]), str(answer["api_key"]["secret"])


async def create_channel(
    deploy: Deployment, config: Mapping[str, Any] | None = None, rate_per_second: float = 100_000
) -> str:
    """An SMS channel on the fake adapter (knobs in ``config``); its resource name."""
    struct = struct_pb2.Struct()
    struct.update(dict(config or {}))
    async with grpc.aio.insecure_channel(deploy.grpc_target) as channel:
        made = await channel_pb2_grpc.ChannelServiceStub(channel).CreateChannel(
            channel_pb2.CreateChannelRequest(
                parent=deploy.tenant,
                channel=channel_pb2.Channel(
                    display_name="load",
                    type=common_pb2.CHANNEL_TYPE_SMS,
                    config=struct,
                    secrets={"webhook_secret": "load-secret"},
                    rate_limit=common_pb2.RateLimit(
                        per_second=rate_per_second, burst=int(rate_per_second)
                    ),
                ),
            ),
            metadata=deploy.metadata,
            timeout=60,
        )
    return str(made.name)


@contextmanager
def deployment(
    backend: str,
    work_dir: Path,
    *,
    services: PrivateServices | None = None,
    topology: str = "single",
    adapter: Mapping[str, str] | None = None,
) -> Iterator[Deployment]:
    """Start the platform (and create its tenant); stop it afterwards."""
    data_dir = work_dir / f"{backend}-{topology}"
    if backend == "scaled":
        assert services is not None, "the scaled backend needs services"
        database_url = asyncio.run(services.create_database("lkdeploy"))
    else:
        database_url = str((data_dir / "linktor.db").resolve())
    env = platform_env(backend, services, database_url, adapter or {})
    with ExitStack() as stack:
        worker: WorkerProcess | None = None
        if topology == "split":
            serve = stack.enter_context(
                running_serve(data_dir, {**env, "LINKTOR_WORKERS": "false"})
            )
            worker = stack.enter_context(running_worker(data_dir, env))
        else:
            serve = stack.enter_context(running_serve(data_dir, env))
        tenant, secret = create_tenant(data_dir, env)
        yield Deployment(
            backend=backend,
            topology=topology,
            serve=serve,
            worker=worker,
            tenant=tenant,
            metadata=(("authorization", f"Bearer {secret}"),),
            data_dir=data_dir,
            database_url=database_url,
            env=env,
        )


@dataclass(frozen=True)
class Progress:
    total: int
    delivered: int
    failed: int


class StatusProbe:
    """Outbound messages of one channel, read straight from the database: watching costs
    the server nothing and needs no API."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._pg = database_url.startswith("postgresql")

    async def rows(self, query: str, *args: object) -> list[tuple[object, ...]]:
        """Run ``query`` (``?`` placeholders) across tenants."""
        if self._pg:
            conn = await asyncpg.connect(self._url.replace("postgresql+asyncpg", "postgresql"))
            try:
                await conn.execute(BYPASS_RLS)
                numbered = query
                for n in range(1, len(args) + 1):
                    numbered = numbered.replace("?", f"${n}", 1)
                return [tuple(r) for r in await conn.fetch(numbered, *args)]
            finally:
                await conn.close()

        def read() -> list[tuple[object, ...]]:
            uri = f"file:{self._url}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
                return list(db.execute(query, args).fetchall())

        return await asyncio.to_thread(read)

    async def progress(self, channel_id: str, request_prefix: str = "") -> Progress:
        """Counts of the channel's outbound messages (those whose request_id starts with
        ``request_prefix``, when given)."""
        (row,) = await self.rows(
            "SELECT count(*),"
            " sum(CASE WHEN status = 'DELIVERED' THEN 1 ELSE 0 END),"
            " sum(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END)"
            " FROM messages WHERE channel_id = ? AND direction = 'OUTBOUND'"
            " AND coalesce(request_id, '') LIKE ?",
            channel_id,
            f"{request_prefix}%",
        )
        total, delivered, failed = (int(v or 0) for v in row)  # type: ignore[call-overload]
        return Progress(total, delivered, failed)

    async def wait_settled(
        self,
        channel_id: str,
        expected: int,
        timeout: float,  # noqa: ASYNC109 - a polling deadline
        interval: float = 0.25,
        request_prefix: str = "",
    ) -> Progress:
        """Poll until ``expected`` messages are DELIVERED or FAILED, or the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            progress = await self.progress(channel_id, request_prefix)
            if progress.delivered + progress.failed >= expected or loop.time() > deadline:
                return progress
            await asyncio.sleep(interval)
