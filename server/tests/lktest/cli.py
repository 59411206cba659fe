"""Running the `linktor` command as a user would, against a data dir (and its database)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lktest.serve import serve_env


def linktor(
    data_dir: Path, *args: str, extra_env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linktor.server.cli", *args],
        env=serve_env(data_dir, {"LINKTOR_LOG_LEVEL": "warning", **(extra_env or {})}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass(frozen=True)
class TenantCredentials:
    tenant: str  # tenants/{id}
    api_key_secret: str
    raw: dict[str, Any]

    @property
    def tenant_id(self) -> str:
        return self.tenant.removeprefix("tenants/")

    @property
    def bearer(self) -> str:
        return f"Bearer {self.api_key_secret}"


def create_tenant(
    data_dir: Path, name: str = "Acme", owner_email: str = "owner@acme.example"
) -> TenantCredentials:
    """`linktor tenant create`: a tenant, its owner and a first API key (all scopes)."""
    made = linktor(data_dir, "tenant", "create", "--name", name, "--owner-email", owner_email)
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    return TenantCredentials(created["tenant"], created["api_key"]["secret"], created)
