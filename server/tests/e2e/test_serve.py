"""`linktor serve` as a user runs it: health, reflection, HTTP probes, errors, clean stop."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from lktest.serve import running_serve, serve_env
from lktest.services import SERVICES, create_pg_database, drop_pg_database, require_service
from lktest.tools import grpcurl

from linktor.v1 import message_pb2, message_pb2_grpc

pytestmark = pytest.mark.e2e

LINKTOR_V1_SERVICES = {
    f"linktor.v1.{name}"
    for name in [
        "ApiKeyService",
        "AttachmentService",
        "AuditService",
        "AuthService",
        "ChannelService",
        "ContactService",
        "ConversationService",
        "EventService",
        "MessageService",
        "TenantService",
        "UserService",
        "WebhookService",
    ]
}


def http_get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def reflection_services(target: str) -> set[str]:
    with grpc.insecure_channel(target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = stub.ServerReflectionInfo(iter([request]), timeout=5)  # type: ignore[operator]
        (reply,) = list(replies)
    return {s.name for s in reply.list_services_response.service}


def test_embedded_serve_health_reflection_probes_and_clean_stop(tmp_path: Path) -> None:
    with running_serve(tmp_path / "data") as serve:
        # Reflection through our stubs and through grpcurl, the way users discover the API.
        assert reflection_services(serve.grpc_target) >= LINKTOR_V1_SERVICES
        listed = subprocess.run(
            [grpcurl(), "-plaintext", serve.grpc_target, "list"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.split()
        assert set(listed) >= LINKTOR_V1_SERVICES | {"grpc.health.v1.Health"}
        described = subprocess.run(
            [grpcurl(), "-plaintext", serve.grpc_target, "describe", "linktor.v1.MessageService"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        assert "rpc SendMessage" in described

        assert http_get(f"{serve.http_base}/healthz") == (200, {"status": "ok"})
        status, body = http_get(f"{serve.http_base}/readyz")
        assert status == 200, body
        assert body["checks"] == {"database": "ok", "bus": "ok", "cache": "ok"}

        started = time.monotonic()
        assert serve.stop(timeout=10) == 0
        assert time.monotonic() - started < 10
        assert "linktor stopped" in serve.log()
    # Embedded state lives under the data dir.
    assert (tmp_path / "data" / "linktor.db").is_file()


def test_unimplemented_rpcs_name_themselves(tmp_path: Path) -> None:
    # Authentication comes first: without credentials every linktor.v1 RPC is UNAUTHENTICATED
    # (tests/e2e/test_tenant_bootstrap.py calls with credentials).
    with running_serve(tmp_path / "data") as serve, grpc.insecure_channel(serve.grpc_target) as ch:
        stub = message_pb2_grpc.MessageServiceStub(ch)
        with pytest.raises(grpc.RpcError) as info:
            stub.GetMessage(
                message_pb2.GetMessageRequest(name="tenants/a/conversations/b/messages/c")
            )
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "authorization: Bearer" in (info.value.details() or "")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LINKTOR_DATABASE_URL", "mysql://root:hunter2@127.0.0.1/linktor"),
        ("LINKTOR_GRPC_ADDR", "nonsense"),
        ("LINKTOR_REDIS_URL", "http://127.0.0.1:6379"),
    ],
)
def test_bad_configuration_is_one_line_and_non_zero(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = serve_env(tmp_path, {variable: value})
    result = subprocess.run(
        [sys.executable, "-m", "linktor.server.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"linktor: configuration error: {variable}:")
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr


def test_unreachable_database_fails_fast_with_one_line(tmp_path: Path) -> None:
    # "Fast" is guarded by the subprocess timeout (connect timeouts are 5 s): no wall-clock
    # assertion, the machines are too noisy for one.
    env = serve_env(tmp_path, {"LINKTOR_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x"})
    env["LINKTOR_MIGRATE_ON_START"] = "true"
    result = subprocess.run(
        [sys.executable, "-m", "linktor.server.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("linktor: ")


async def test_scaled_serve_on_postgresql_nats_and_redis(tmp_path: Path) -> None:
    require_service(SERVICES.nats_url, "NATS")
    require_service(SERVICES.redis_url, "Redis")
    url = await create_pg_database("lk_serve")
    try:
        scaled = {
            "LINKTOR_DATABASE_URL": url,
            "LINKTOR_NATS_URL": SERVICES.nats_url,
            "LINKTOR_REDIS_URL": SERVICES.redis_url,
        }
        migrated = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "linktor.server.cli", "migrate"],
            env=serve_env(tmp_path, scaled),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr
        assert "database at revision" in migrated.stdout
        with running_serve(tmp_path / "data", scaled) as serve:
            status, body = http_get(f"{serve.http_base}/readyz")
            assert status == 200, body
            assert serve.stop() == 0
    finally:
        await drop_pg_database(url)
