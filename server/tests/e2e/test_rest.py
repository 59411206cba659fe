"""REST under /v1 in `linktor serve`: the same answers as gRPC (one handler and interceptor
chain serves both), 429s with Retry-After and RateLimit headers, the client's address reaching
the server, and /openapi.json, /docs and the probes served beside it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import status_pb2
from lktest.cli import TenantCredentials, create_tenant
from lktest.serve import ServeProcess, running_serve

from linktor.gateway.status import status_json
from linktor.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    contact_pb2,
    contact_pb2_grpc,
    tenant_pb2,
    tenant_pb2_grpc,
)

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, Any]]:
    data = tmp_path_factory.mktemp("rest") / "data"
    credentials = create_tenant(data)
    with running_serve(data) as serve:
        yield serve, credentials


def http(serve: ServeProcess) -> httpx.Client:
    return httpx.Client(base_url=serve.http_base, timeout=30)


def test_probes_openapi_and_docs_are_served_beside_the_api(
    served: tuple[ServeProcess, TenantCredentials],
) -> None:
    serve, _ = served
    with http(serve) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200
        document = client.get("/openapi.json")
        assert document.status_code == 200
        assert document.headers["content-type"] == "application/json"
        assert document.content == (REPO / "gen/openapi/linktor.openapi.json").read_bytes()

        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)
        assert len(assets) == 4  # favicon, stylesheet, Swagger UI bundle, its start-up script
        for asset in assets:
            loaded = client.get(asset)
            assert loaded.status_code == 200, asset
            assert loaded.content, asset
        assert 'data-openapi="/openapi.json"' in page.text

        # Under /v1 every miss is a google.rpc.Status; elsewhere the HTTP app's own 404.
        missing = client.get("/v1/nowhere")
        assert missing.status_code == 404
        assert missing.json()["code"] == 5
        wrong_method = client.delete("/v1/auth/principal")
        assert wrong_method.status_code == 405
        assert wrong_method.headers["allow"] == "GET"
        assert client.get("/elsewhere").status_code == 404


def _grpc_answer(call: Any, request: Message, metadata: tuple[tuple[str, str], ...]) -> Any:
    """What a gRPC client sees, in the form REST renders it: the response's JSON, or the
    google.rpc.Status JSON with the HTTP status REST must use for it."""
    try:
        response = call(request, metadata=metadata, timeout=30)
    except grpc.RpcError as failure:
        error: Any = failure  # also a grpc.Call: code, details, trailing metadata
        rich = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
        if rich is not None:
            return status_json(status_pb2.Status.FromString(rich))
        return status_json(status_pb2.Status(code=error.code().value[0], message=error.details()))
    return json_format.MessageToDict(response, always_print_fields_with_no_presence=True)


def test_rest_answers_exactly_as_grpc(served: tuple[ServeProcess, TenantCredentials]) -> None:
    serve, creds = served
    auth = (("authorization", creds.bearer),)
    with grpc.insecure_channel(serve.grpc_target) as channel:
        principal = auth_pb2_grpc.AuthServiceStub(channel).GetPrincipal
        tenants = tenant_pb2_grpc.TenantServiceStub(channel).GetTenant
        contacts = contact_pb2_grpc.ContactServiceStub(channel).ListContacts
        contact = contact_pb2_grpc.ContactServiceStub(channel).GetContact
        login = auth_pb2_grpc.AuthServiceStub(channel).Login
        cases = [
            # (HTTP method, path, body, gRPC method, its request, metadata, HTTP status)
            ("GET", "/v1/auth/principal", None, principal, auth_pb2.GetPrincipalRequest(), (), 401),
            ("GET", "/v1/auth/principal", None, principal, auth_pb2.GetPrincipalRequest(), auth, 200),
            (
                "GET", f"/v1/{creds.tenant}", None,
                tenants, tenant_pb2.GetTenantRequest(name=creds.tenant), auth, 200,
            ),
            (
                "GET", "/v1/tenants/someone-else", None,
                tenants, tenant_pb2.GetTenantRequest(name="tenants/someone-else"), auth, 404,
            ),
            (
                "GET", f"/v1/{creds.tenant}/contacts?pageSize=5", None,
                contacts, contact_pb2.ListContactsRequest(parent=creds.tenant, page_size=5), auth, 200,
            ),
            (
                "GET", f"/v1/{creds.tenant}/contacts/nobody", None,
                contact, contact_pb2.GetContactRequest(name=f"{creds.tenant}/contacts/nobody"), auth, 404,
            ),
            (
                "POST", "/v1/auth:login", {"email": "nobody@acme.example", "password": "wrong"},
                login, auth_pb2.LoginRequest(email="nobody@acme.example", password="wrong"), (), 401,
            ),
        ]  # fmt: skip
        with http(serve) as client:
            for method, path, body, call, request, metadata, expected in cases:
                headers = {"Authorization": creds.bearer} if metadata else {}
                rest = client.request(method, path, json=body, headers=headers)
                assert rest.status_code == expected, (path, rest.text)
                assert rest.json() == _grpc_answer(call, request, metadata), path


def test_the_client_address_reaches_the_server(
    served: tuple[ServeProcess, TenantCredentials],
) -> None:
    serve, creds = served
    with http(serve) as client:
        client.headers["Authorization"] = creds.bearer
        made = client.post(
            f"/v1/{creds.tenant}/apiKeys", json={"displayName": "ci", "scopes": ["*"]}
        )
        assert made.status_code == 200, made.text
        key = made.json()["name"]
        entries = client.get(f"/v1/{creds.tenant}/auditEntries").json()["auditEntries"]
    created = [e for e in entries if e["action"] == "api_key.create" and e["resource"] == key]
    assert [e["clientAddress"] for e in created] == ["127.0.0.1"]


RATE_LIMITED = {
    # 2 calls, then one call every 10 s: the third call in a row is refused.
    "LINKTOR_RATE_LIMIT_API_KEY_BURST": "2",
    "LINKTOR_RATE_LIMIT_API_KEY_PER_SECOND": "0.1",
}


def test_rate_limits_are_shared_and_rest_gets_429_with_headers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    creds = create_tenant(data)
    with running_serve(data, RATE_LIMITED) as serve, http(serve) as client:
        client.headers["Authorization"] = creds.bearer
        assert client.get("/v1/auth/principal").status_code == 200
        with grpc.insecure_channel(serve.grpc_target) as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            stub.GetPrincipal(
                auth_pb2.GetPrincipalRequest(), metadata=(("authorization", creds.bearer),)
            )
        # The bucket is the API key's, whatever the transport: REST's next call is refused.
        refused = client.get("/v1/auth/principal")

    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == 8
    info = next(d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo"))
    assert info["reason"] == "RATE_LIMITED"
    retry = next(d for d in body["details"] if d["@type"].endswith("google.rpc.RetryInfo"))
    delay = float(retry["retryDelay"].removesuffix("s"))
    headers = refused.headers
    assert 1 <= int(headers["retry-after"]) <= 10
    assert int(headers["retry-after"]) == -(-delay // 1)  # whole seconds, rounded up
    assert headers["ratelimit-limit"] == "2"
    assert headers["ratelimit-remaining"] == "0"
    assert headers["ratelimit-reset"] == headers["retry-after"]
    assert headers["ratelimit-policy"] == "2;w=20"
