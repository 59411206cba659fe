"""Authentication overhead: the same unary call with and without authentication, same run.

Two gRPC servers in one process share one embedded database (SQLite) and the same servicers:
- "unauthenticated": no auth interceptor; a fixed principal is made current for the call;
- "authenticated": the production chain (error mapping + AuthInterceptor: header parsing,
  cached credential lookup, tenant state, permission rule, two token buckets).
Calls: GetPrincipal (no database: the overhead at its most visible) and GetTenant (one indexed
read: a typical call), each with an API key and with a JWT access token. Rounds alternate
between the variants so drift hits them alike. Latency: sequential calls; throughput: 16 calls
in flight. Because end-to-end numbers on a shared 2-core machine are noisy, the auth layer is
also timed alone (``authenticate_*_us``, best of the rounds) and expressed as a share of the
unauthenticated call's median (``*_added_cost_pct_of_p50``): that is the stable overhead figure.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc

from linktor.server.api.grpc_server import build_grpc_server
from linktor.server.config import load_settings
from linktor.server.identity.adapters.passwords import Argon2PasswordHasher
from linktor.server.identity.api.interceptor import AuthInterceptor
from linktor.server.identity.api.registrations import identity_registrations
from linktor.server.identity.module import IdentityServices, build_identity
from linktor.server.infra.cache.memory import MemoryRateLimiter
from linktor.server.infra.db import migrate
from linktor.server.infra.db.engine import create_engine
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.principal import (
    Principal,
    reset_current_principal,
    set_current_principal,
)
from linktor.v1 import auth_pb2, auth_pb2_grpc, tenant_pb2, tenant_pb2_grpc

SEQUENTIAL_CALLS = 300
CONCURRENT_CALLS = 1600
IN_FLIGHT = 16
ROUNDS = 3
DIRECT_CALLS = 5000
PASSWORD = "bench password long enough"


class FixedPrincipal(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """The unauthenticated baseline: the same principal, no checks at all."""

    def __init__(self, principal: Principal) -> None:
        self._principal = principal

    async def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner, principal = handler.unary_unary, self._principal

        async def unary(request: Any, context: Any) -> Any:
            token = set_current_principal(principal)
            try:
                return await inner(request, context)
            finally:
                reset_current_principal(token)

        return grpc.unary_unary_rpc_method_handler(
            unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


@asynccontextmanager
async def serving(identity: IdentityServices, interceptor: Any) -> AsyncIterator[grpc.aio.Channel]:
    server, _ = build_grpc_server(identity_registrations(identity), interceptors=[interceptor])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        await channel.close(None)
        await server.stop(None)


async def sequential(call: Callable[[], Awaitable[Any]]) -> list[float]:
    samples = []
    for _ in range(SEQUENTIAL_CALLS):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def throughput(call: Callable[[], Awaitable[Any]]) -> float:
    per_worker = CONCURRENT_CALLS // IN_FLIGHT

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return per_worker * IN_FLIGHT / (time.perf_counter() - started)


async def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            rate_limit_tenant_per_second=1e9,
            rate_limit_tenant_burst=10**9,
            rate_limit_api_key_per_second=1e9,
            rate_limit_api_key_burst=10**9,
        )
        engine = create_engine(settings.effective_database_url)
        await migrate.upgrade(engine)
        identity = build_identity(
            settings,
            engine,
            MemoryRateLimiter(),
            SystemClock(),
            passwords=Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
        made = await identity.tenants.bootstrap(
            display_name="Bench", owner_email="bench@example.com", owner_password=PASSWORD
        )
        session = await identity.sessions.login("bench@example.com", PASSWORD)
        fixed = Principal(
            tenant_id=made.tenant.id, api_key_id=made.api_key.key.id, scopes=frozenset({"*"})
        )
        credentials = {
            "api_key": (("authorization", f"Bearer {made.api_key.secret}"),),
            "jwt": (("authorization", f"Bearer {session.access_token}"),),
        }
        tenant_request = tenant_pb2.GetTenantRequest(name=made.tenant.name)
        principal_request = auth_pb2.GetPrincipalRequest()
        results: dict[str, dict[str, list[float]]] = {}
        async with (
            serving(identity, FixedPrincipal(fixed)) as plain,
            serving(identity, AuthInterceptor(identity.authenticator)) as authed,
        ):
            variants: dict[str, tuple[grpc.aio.Channel, Any]] = {
                "unauthenticated": (plain, ()),
                "api_key": (authed, credentials["api_key"]),
                "jwt": (authed, credentials["jwt"]),
            }
            for rpc in ("GetPrincipal", "GetTenant"):
                for _ in range(ROUNDS):
                    for variant, (channel, metadata) in variants.items():
                        if rpc == "GetPrincipal":
                            stub: Any = auth_pb2_grpc.AuthServiceStub(channel)
                            request: Any = principal_request
                        else:
                            stub = tenant_pb2_grpc.TenantServiceStub(channel)
                            request = tenant_request
                        method = getattr(stub, rpc)

                        def call(m: Any = method, r: Any = request, md: Any = metadata) -> Any:
                            return m(r, metadata=md)

                        await call()  # warm the channel and the caches
                        key = f"{rpc}/{variant}"
                        slot = results.setdefault(key, {"latency": [], "throughput": []})
                        slot["latency"] += await sequential(call)
                        slot["throughput"].append(await throughput(call))
        # The auth layer alone, without gRPC: the cost it adds to every call, in microseconds.
        direct: dict[str, float] = {}
        authenticate = identity.authenticator.authenticate
        for variant in ("api_key", "jwt"):
            header = credentials[variant][0][1]
            runs = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                for _ in range(DIRECT_CALLS):
                    await authenticate(header, "/linktor.v1.TenantService/GetTenant", "127.0.0.1")
                runs.append((time.perf_counter() - started) / DIRECT_CALLS)
            direct[variant] = min(runs)
        await identity.authenticator.drain()
        await engine.dispose()
    metrics = summarize(results)
    for variant, seconds in direct.items():
        metrics[f"authenticate_{variant}_us"] = round(seconds * 1e6, 1)
        for rpc in ("GetPrincipal", "GetTenant"):
            base = metrics[f"{rpc}_unauthenticated_p50_us"]
            metrics[f"{rpc}_{variant}_added_cost_pct_of_p50"] = round(100 * seconds * 1e6 / base, 1)
    return metrics


def summarize(results: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for key, slot in results.items():
        rpc, variant = key.split("/")
        latency = sorted(slot["latency"])
        metrics[f"{rpc}_{variant}_p50_us"] = round(statistics.median(latency) * 1e6, 1)
        metrics[f"{rpc}_{variant}_p99_us"] = round(latency[int(len(latency) * 0.99)] * 1e6, 1)
        metrics[f"{rpc}_{variant}_calls_per_s"] = round(statistics.median(slot["throughput"]))
    for rpc in ("GetPrincipal", "GetTenant"):
        base_p50 = metrics[f"{rpc}_unauthenticated_p50_us"]
        base_rate = metrics[f"{rpc}_unauthenticated_calls_per_s"]
        for variant in ("api_key", "jwt"):
            metrics[f"{rpc}_{variant}_p50_overhead_pct"] = round(
                100 * (metrics[f"{rpc}_{variant}_p50_us"] / base_p50 - 1), 1
            )
            metrics[f"{rpc}_{variant}_throughput_loss_pct"] = round(
                100 * (1 - metrics[f"{rpc}_{variant}_calls_per_s"] / base_rate), 1
            )
    return metrics


def main() -> dict[str, Any]:
    metrics = asyncio.run(measure())
    return {
        "benchmark": "auth",
        "setup": (
            "one process, embedded SQLite, in-memory token buckets; "
            f"{ROUNDS} alternating rounds of {SEQUENTIAL_CALLS} sequential calls and "
            f"{CONCURRENT_CALLS} calls with {IN_FLIGHT} in flight per variant"
        ),
        "metrics": metrics,
        "goals": {"authenticated_vs_unauthenticated_overhead_pct": 10},
    }
