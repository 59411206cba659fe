"""`linktor tenant create` on a fresh data dir gives credentials that work at once over gRPC,
with grpcurl and the bearer header, the way a newcomer tries it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from lktest.serve import running_serve, serve_env
from lktest.tools import grpcurl

from linktor.v1 import auth_pb2, auth_pb2_grpc, message_pb2, message_pb2_grpc, user_pb2

pytestmark = pytest.mark.e2e


def linktor(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linktor.server.cli", *args],
        env=serve_env(data_dir, {"LINKTOR_LOG_LEVEL": "warning"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_tenant_create_prints_credentials_that_work_over_grpc(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = linktor(
        data,
        "tenant", "create", "--name", "Acme Ltd", "--owner-email", "Ana@Acme.example",
        "--owner-password", "a long enough password",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)  # ONE JSON object on stdout
    tenant = created["tenant"]
    assert tenant.startswith("tenants/acme-ltd-")
    assert created["owner"]["email"] == "ana@acme.example"
    assert created["owner"]["role"] == "OWNER"
    secret = created["api_key"]["secret"]
    assert secret.startswith(created["api_key"]["prefix"] + "_")
    assert (data / "jwt-signing-key").stat().st_mode & 0o777 == 0o600

    with running_serve(data) as serve:
        answer = subprocess.run(
            [
                grpcurl(), "-plaintext", "-H", f"authorization: Bearer {secret}",
                serve.grpc_target, "linktor.v1.AuthService/GetPrincipal",
            ],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
        assert answer.returncode == 0, answer.stderr
        principal = json.loads(answer.stdout)
        assert principal["tenant"] == tenant
        assert principal["apiKey"] == created["api_key"]["name"]

        login = subprocess.run(
            [
                grpcurl(), "-plaintext", "-d",
                json.dumps({"email": "ana@acme.example", "password": "a long enough password"}),
                serve.grpc_target, "linktor.v1.AuthService/Login",
            ],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
        assert login.returncode == 0, login.stderr
        assert json.loads(login.stdout)["user"]["role"] == "ROLE_OWNER"

        # With credentials, other contexts' RPCs get past authentication (whatever they answer).
        with grpc.insecure_channel(serve.grpc_target) as channel:
            stub = message_pb2_grpc.MessageServiceStub(channel)
            with pytest.raises(grpc.RpcError) as info:
                stub.GetMessage(
                    message_pb2.GetMessageRequest(name=f"{tenant}/conversations/b/messages/c"),
                    metadata=(("authorization", f"Bearer {secret}"),),
                )
        assert info.value.code() not in (
            grpc.StatusCode.UNAUTHENTICATED,
            grpc.StatusCode.PERMISSION_DENIED,
        )


def test_bad_tenant_create_input_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = linktor(data, "tenant", "create", "--name", "Acme", "--owner-email", "not-an-email")
    assert bad.returncode != 0
    assert bad.stdout == ""
    assert "owner_email: must be an email address" in bad.stderr
    short = linktor(
        data, "tenant", "create", "--name", "Acme", "--owner-email", "a@b.example",
        "--owner-password", "short",
    )  # fmt: skip
    assert short.returncode != 0
    assert "owner_password: must be at least 12 characters" in short.stderr


def test_an_invited_owner_gets_in_with_an_operator_password_setup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = linktor(data, "tenant", "create", "--name", "Beta", "--owner-email", "bo@beta.example")
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["owner"]["state"] == "INVITED"
    setup = linktor(
        data, "user", "password-setup", "--tenant", created["tenant"], "--email", "BO@beta.example"
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    issued = json.loads(setup.stdout)
    assert issued["user"] == created["owner"]["name"]
    assert issued["token"].startswith("lkps_")
    missing = linktor(data, "user", "password-setup", "--tenant", "x", "--email", "no@x.example")
    assert missing.returncode != 0 and "no user with email" in missing.stderr

    with running_serve(data) as serve, grpc.insecure_channel(serve.grpc_target) as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        done = auth.SetPassword(
            auth_pb2.SetPasswordRequest(token=issued["token"], password="a long enough password")
        )
        assert done.user.state == user_pb2.USER_STATE_ACTIVE
        login = auth.Login(
            auth_pb2.LoginRequest(email="bo@beta.example", password="a long enough password")
        )
        assert login.user.role == user_pb2.ROLE_OWNER


def test_operator_keys_are_listed_and_revoked_on_the_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = linktor(data, "operator", "create-key", "--name", "ops@example.com")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    listed = linktor(data, "operator", "list-keys")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["operator_key"], r["name"], r["revoke_time"]) for r in rows] == [
        (key["operator_key"], "ops@example.com", None)
    ]
    assert key["secret"] not in listed.stdout
    revoked = linktor(data, "operator", "revoke-key", key["operator_key"])
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoke_time"]
    unknown = linktor(data, "operator", "revoke-key", "lko_nosuchkey")
    assert unknown.returncode != 0
    assert "no operator key has the prefix" in unknown.stderr and "Traceback" not in unknown.stderr
    # A revoked key opens nothing (a fresh process: no cache to wait out).
    with running_serve(data) as serve:
        answer = subprocess.run(
            [
                grpcurl(), "-plaintext", "-H", f"authorization: Bearer {key['secret']}",
                serve.grpc_target, "linktor.v1.TenantService/ListTenants",
            ],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert answer.returncode != 0 and "revoked" in answer.stderr
