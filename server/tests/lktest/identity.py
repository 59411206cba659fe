"""An in-process gRPC server with the identity context on a real database, for tests.

The server is the production one (error mapping, auth interceptor, servicers); only the
password hasher is made cheap. Clients are generated stubs on a grpc.aio channel.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.api.grpc_server import Registration, build_grpc_server
from linktor.server.config import Settings, load_settings
from linktor.server.identity.adapters.passwords import Argon2PasswordHasher
from linktor.server.identity.api.interceptor import AuthInterceptor
from linktor.server.identity.api.registrations import identity_registrations
from linktor.server.identity.module import IdentityServices, build_identity
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.shared.clock import Clock, SystemClock
from linktor.v1 import (
    api_key_pb2_grpc,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    tenant_pb2_grpc,
    user_pb2_grpc,
)
from lktest.services import free_port, unique_id

PASSWORD = "a long enough password"
JWT_SECRET = "test-secret-" + "x" * 40


def cheap_passwords() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    # Every login of the suite comes from 127.0.0.1: no address limit unless a test sets one.
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "jwt_secret": JWT_SECRET,
        "login_attempts_per_address_per_minute": 100_000,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Tenant:
    """A bootstrapped tenant: its id, owner credentials, first API key."""

    id: str
    owner_email: str
    owner_user_id: str
    api_key: str
    api_key_name: str

    @property
    def name(self) -> str:
        return f"tenants/{self.id}"


class Stubs:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.tenants = tenant_pb2_grpc.TenantServiceStub(channel)
        self.users = user_pb2_grpc.UserServiceStub(channel)
        self.auth = auth_pb2_grpc.AuthServiceStub(channel)
        self.api_keys = api_key_pb2_grpc.ApiKeyServiceStub(channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(channel)


@dataclass
class IdentityServer:
    identity: IdentityServices
    server: grpc.aio.Server
    channel: grpc.aio.Channel
    stubs: Stubs
    target: str

    async def tenant(self, plan: str = "") -> Tenant:
        tenant_id = unique_id("t")
        email = f"owner-{tenant_id}@example.com"
        made = await self.identity.tenants.bootstrap(
            display_name=f"Tenant {tenant_id}",
            owner_email=email,
            owner_password=PASSWORD,
            tenant_id=tenant_id,
            plan=plan,
        )
        return Tenant(
            tenant_id, email, made.owner.user_id, made.api_key.secret, made.api_key.key.name
        )

    async def login(
        self, email: str, password: str = PASSWORD, tenant: str = ""
    ) -> auth_pb2.LoginResponse:
        return await self.stubs.auth.Login(
            auth_pb2.LoginRequest(email=email, password=password, tenant=tenant)
        )

    async def operator_key(self) -> str:
        return (await self.identity.operators.create_key("ops@example.com")).secret


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


@dataclass
class Failure:
    code: grpc.StatusCode
    message: str
    reason: str
    metadata: dict[str, str]
    retry_after: float | None
    # google.rpc.BadRequest field violations: field path -> description.
    violations: dict[str, str] = field(default_factory=dict)


def failure_of(error: grpc.aio.AioRpcError) -> Failure:
    """The code, message, ErrorInfo reason/metadata and RetryInfo delay of a failed call."""
    status: status_pb2.Status | None = rpc_status.from_call(error)  # type: ignore[arg-type]
    reason, metadata, retry, violations = "", {}, None, {}
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            delay = error_details_pb2.RetryInfo()
            detail.Unpack(delay)
            retry = delay.retry_delay.ToTimedelta().total_seconds()
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.update({v.field: v.description for v in bad.field_violations})
    return Failure(error.code(), error.details() or "", reason, metadata, retry, violations)


async def fails(call: Any) -> Failure:
    """Await ``call`` expecting an RPC error; its Failure."""
    try:
        result = await call
    except grpc.aio.AioRpcError as error:
        return failure_of(error)
    raise AssertionError(f"the call succeeded: {json.dumps(str(result))[:200]}")


@asynccontextmanager
async def start_identity_server(
    engine: AsyncEngine,
    settings: Settings,
    limiter: RateLimiter,
    *,
    more_services: Callable[[IdentityServices], list[Registration]] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[IdentityServer]:
    """``more_services``: other contexts' servicers to serve behind the same authentication
    (built from the identity services, e.g. for their plan limits). ``clock``: the system's
    by default."""
    identity = build_identity(
        settings, engine, limiter, clock or SystemClock(), passwords=cheap_passwords()
    )
    registrations = identity_registrations(identity)
    if more_services is not None:
        registrations += more_services(identity)
    server, _health = build_grpc_server(
        registrations, interceptors=[AuthInterceptor(identity.authenticator)]
    )
    target = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(target)
    await server.start()
    channel = grpc.aio.insecure_channel(target)
    try:
        yield IdentityServer(identity, server, channel, Stubs(channel), target)
    finally:
        await identity.authenticator.drain()
        await channel.close(None)
        await server.stop(None)
