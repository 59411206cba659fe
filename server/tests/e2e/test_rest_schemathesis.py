"""schemathesis against a running `linktor serve`, from the OpenAPI document it serves.

Every operation of /openapi.json gets generated requests (valid and invalid ones, derandomized
so a run is reproducible) with a tenant's API key; two in three go to that tenant, the rest
keep the generated tenant id (other tenants, odd characters in the path). Each answer must
match the document (status, content type, body schema) and none may be a 5xx, except 501
from the RPCs listed in NOT_IMPLEMENTED: when one of them is implemented its 501s stop and
the last test asks to take it off the list.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from lktest.cli import TenantCredentials, create_tenant
from lktest.serve import ServeProcess, running_serve
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]

# Per operation (68 of them; operations with small input spaces use fewer).
EXAMPLES_PER_OPERATION = 12
MIN_CASES = 500

# RPCs that answer UNIMPLEMENTED (501) for now: list an RPC added to the protos before its
# servicer, remove it when the servicer lands. (Every RPC of linktor.v1 is served today.)
NOT_IMPLEMENTED: frozenset[str] = frozenset()

# Server-streaming RPCs: live streams never end by themselves, so these calls carry a
# deadline (Grpc-Timeout). One that passes before the first message is a 504 the client
# asked for; after it, the stream ends with a DEADLINE_EXCEEDED line.
STREAMING = frozenset({"EventService.StreamEvents"})
STREAM_DEADLINE = "2S"

# Generated traffic from one key must not be throttled into 429s that hide everything else.
UNTHROTTLED = {
    "LINKTOR_RATE_LIMIT_API_KEY_PER_SECOND": "1000000",
    "LINKTOR_RATE_LIMIT_API_KEY_BURST": "1000000",
    "LINKTOR_RATE_LIMIT_TENANT_PER_SECOND": "1000000",
    "LINKTOR_RATE_LIMIT_TENANT_BURST": "1000000",
}


@dataclass
class Target:
    serve: ServeProcess
    credentials: TenantCredentials
    # rpc -> HTTP status -> count, over the whole run.
    seen: defaultdict[str, Counter[int]]
    started: float
    # rpc -> seconds spent in its calls.
    spent: defaultdict[str, float]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data = tmp_path_factory.mktemp("schemathesis") / "data"
    credentials = create_tenant(data)
    with running_serve(data, UNTHROTTLED) as serve:
        yield Target(serve, credentials, defaultdict(Counter), time.monotonic(), defaultdict(float))


# The committed document, which test_rest.py checks is byte for byte what /openapi.json
# serves. (Loaded at collection: schemathesis' from_fixture does not work with pytest 9.)
schema = schemathesis.openapi.from_path(REPO / "gen/openapi/linktor.openapi.json")
# Fuzzing (valid and invalid data) with a bounded number of examples per operation. The
# coverage phase (boundary values of every field) is off: its size grows with the schemas,
# ~6,800 requests today, too slow for every CI run.
schema.config.phases.coverage.enabled = False


def rpc_of(case: Any) -> str:
    """``MessageService.SendMessage`` from the operationId ``MessageService_SendMessage``
    (or ``MessageService_SendMessage_2``, for an additional binding)."""
    operation_id = str(case.operation.definition.raw["operationId"])
    return re.sub(r"_\d+$", "", operation_id).replace("_", ".", 1)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    # No shrinking: a failure is reported as generated (with a curl command to replay it).
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_answers(case: Any, target: Target) -> None:
    rpc = rpc_of(case)
    seen = target.seen[rpc]
    tenant = case.path_parameters.get("tenant") if case.path_parameters else None
    if tenant is not None and sum(seen.values()) % 3 != 2:
        case.path_parameters["tenant"] = target.credentials.tenant_id
    headers = {"Authorization": target.credentials.bearer}
    if rpc in STREAMING:
        headers["Grpc-Timeout"] = STREAM_DEADLINE
    began = time.monotonic()
    response = case.call(base_url=target.serve.http_base, headers=headers, timeout=30)
    target.spent[rpc] += time.monotonic() - began
    seen[response.status_code] += 1
    if response.status_code == 501:
        assert rpc in NOT_IMPLEMENTED, f"{rpc} answered 501: {response.text}"
        assert response.json()["message"] == f"linktor.v1.{rpc} is not implemented yet"
    elif response.status_code == 504 and rpc in STREAMING:
        assert response.json()["code"] == 4  # DEADLINE_EXCEEDED, as asked
    else:
        assert response.status_code < 500, f"{rpc}: {response.status_code} {response.text}"
    if rpc in STREAMING and response.status_code == 200:
        # NDJSON, which schemathesis does not read: results, then at most one error line.
        lines = [json.loads(line) for line in response.text.splitlines()]
        assert all(set(line) == {"result"} for line in lines[:-1]), response.text
        assert lines == [] or set(lines[-1]) in ({"result"}, {"error"}), response.text
    case.validate_response(
        response,
        checks=[
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )


def test_enough_cases_ran_and_the_not_implemented_list_is_current(target: Target) -> None:
    total = sum(sum(statuses.values()) for statuses in target.seen.values())
    if total == 0:
        pytest.skip("runs after test_generated_requests_get_documented_answers")
    elapsed = time.monotonic() - target.started
    by_status = sum((statuses for statuses in target.seen.values()), Counter[int]())
    print(
        f"schemathesis: {total} cases in {elapsed:.0f} s, by status {dict(sorted(by_status.items()))}"
    )
    slowest = sorted(target.spent.items(), key=lambda item: -item[1])[:5]
    print(
        "slowest:",
        ", ".join(f"{rpc} {sum(target.seen[rpc].values())} in {t:.1f} s" for rpc, t in slowest),
    )
    assert total >= MIN_CASES
    implemented = sorted(rpc for rpc in NOT_IMPLEMENTED if not target.seen[rpc][501])
    assert not implemented, f"no 501 any more: remove from NOT_IMPLEMENTED: {implemented}"
