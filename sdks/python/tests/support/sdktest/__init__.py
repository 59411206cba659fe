"""A live `linktor serve` for the SDK and CLI tests: one server per session (the real
subprocess of lktest, a channel type served by the fake adapter process), tenants made with
`linktor tenant create`, and a helper to wait for asynchronous outcomes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from lktest.platform import fake_adapter_env, provider_log
from lktest.serve import ServeProcess, running_serve, serve_env
from lktest.services import unique_id

PASSWORD = "a long enough password"
T = TypeVar("T")

# Bulk sends and many logins from one address must not be throttled into flaky tests.
UNTHROTTLED = {
    "LINKTOR_RATE_LIMIT_API_KEY_PER_SECOND": "100000",
    "LINKTOR_RATE_LIMIT_API_KEY_BURST": "100000",
    "LINKTOR_RATE_LIMIT_TENANT_PER_SECOND": "100000",
    "LINKTOR_RATE_LIMIT_TENANT_BURST": "100000",
    "LINKTOR_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "100000",
    "LINKTOR_LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE": "100000",
    "LINKTOR_DEFAULT_PLAN": "enterprise",
}


@dataclass(frozen=True)
class TenantLogin:
    """A tenant made by `linktor tenant create`: its name, first API key and owner."""

    tenant: str
    api_key: str
    email: str
    password: str

    @property
    def tenant_id(self) -> str:
        return self.tenant.removeprefix("tenants/")


@dataclass
class LiveServer:
    serve: ServeProcess
    env: dict[str, str]
    provider_log_path: Path

    @property
    def address(self) -> str:
        return self.serve.grpc_target

    def create_tenant(self, name: str = "Acme") -> TenantLogin:
        email = f"owner-{unique_id('u')}@acme.example"
        made = subprocess.run(
            [
                sys.executable, "-m", "linktor.server.cli", "tenant", "create",
                "--name", name, "--owner-email", email, "--owner-password", PASSWORD,
            ],
            env=serve_env(self.serve.data_dir, {"LINKTOR_LOG_LEVEL": "warning", **self.env}),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        created = json.loads(made.stdout)
        return TenantLogin(created["tenant"], created["api_key"]["secret"], email, PASSWORD)

    def provider_sends(self) -> list[dict[str, object]]:
        """What the fake provider was asked to send, in order."""
        return [r for r in provider_log(self.provider_log_path) if r.get("op") == "send"]


@contextmanager
def live_server(data_dir: Path, **extra_env: str) -> Iterator[LiveServer]:
    """`linktor serve` with the fake adapter serving SMS channels."""
    log_path = data_dir.parent / f"{data_dir.name}-provider.jsonl"
    env = {**UNTHROTTLED, **fake_adapter_env(log_path), **extra_env}
    with running_serve(data_dir, env) as serve:
        yield LiveServer(serve, env, log_path)


def eventually(check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
