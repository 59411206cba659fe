"""gRPC status <-> HTTP: the google.rpc.Code -> HTTP status table and the error body.

The body of every error is the JSON form of google.rpc.Status (``code``, ``message``,
``details``), as grpc-gateway writes it, so one error model serves gRPC and REST clients.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from google.protobuf import any_pb2, json_format
from google.protobuf.descriptor_pool import DescriptorPool
from google.rpc import code_pb2, error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]

# The mapping documented in google/rpc/code.proto.
HTTP_STATUS_BY_CODE: dict[int, int] = {
    code_pb2.OK: 200,
    code_pb2.CANCELLED: 499,
    code_pb2.UNKNOWN: 500,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.DEADLINE_EXCEEDED: 504,
    code_pb2.NOT_FOUND: 404,
    code_pb2.ALREADY_EXISTS: 409,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.RESOURCE_EXHAUSTED: 429,
    code_pb2.FAILED_PRECONDITION: 400,
    code_pb2.ABORTED: 409,
    code_pb2.OUT_OF_RANGE: 400,
    code_pb2.UNIMPLEMENTED: 501,
    code_pb2.INTERNAL: 500,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DATA_LOSS: 500,
}

STATUS_DETAILS_KEY = "grpc-status-details-bin"

Metadata = Sequence[tuple[str, str | bytes]]


class BadRequest(Exception):
    """The HTTP request cannot become a gRPC call; ``field`` names the culprit when known."""

    def __init__(self, description: str, field: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.field = field


class RpcFailure(Exception):
    """A call that ended with a non-OK status; what invokers raise."""

    def __init__(self, status: status_pb2.Status, trailing_metadata: Metadata = ()) -> None:
        super().__init__(f"status {status.code}: {status.message}")
        self.status = status
        self.trailing_metadata = trailing_metadata


def http_status_for(code: int) -> int:
    return HTTP_STATUS_BY_CODE.get(code, 500)


def status_from_metadata(code: int, message: str, trailing_metadata: Metadata) -> status_pb2.Status:
    """The full status: the ``grpc-status-details-bin`` trailer when present, else code+message."""
    for key, value in trailing_metadata:
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                detailed = status_pb2.Status.FromString(value)
            except Exception:
                break
            # The trailer must agree with the status line; if not, trust the status line.
            if detailed.code == code:
                return detailed
            break
    return status_pb2.Status(code=code, message=message)


def make_status(code: int, message: str, *details: object) -> status_pb2.Status:
    status = status_pb2.Status(code=code, message=message)
    for detail in details:
        status.details.add().Pack(detail)  # type: ignore[arg-type]
    return status


def bad_request_status(description: str, field: str = "") -> status_pb2.Status:
    """INVALID_ARGUMENT with a google.rpc.BadRequest naming the field, when there is one."""
    if not field:
        return make_status(code_pb2.INVALID_ARGUMENT, description)
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
    return make_status(
        code_pb2.INVALID_ARGUMENT,
        description,
        error_details_pb2.BadRequest(field_violations=[violation]),
    )


def retry_after_headers(status: status_pb2.Status) -> list[tuple[bytes, bytes]]:
    """``Retry-After`` (whole seconds, rounded up) from a google.rpc.RetryInfo detail, so
    HTTP clients and proxies that know nothing of RetryInfo still back off."""
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            delay = info.retry_delay
            seconds = max(0, delay.seconds + (1 if delay.nanos > 0 else 0))
            return [(b"retry-after", str(seconds).encode())]
    return []


def _detail_json(detail: any_pb2.Any, pool: DescriptorPool | None) -> object:
    for candidate in (None, pool):
        try:
            return json_format.MessageToDict(detail, descriptor_pool=candidate)
        except (TypeError, KeyError, json_format.Error):
            continue
    # A detail type no pool knows: keep it, as the binary the JSON mapping would wrap.
    return {"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()}


def status_json(status: status_pb2.Status, pool: DescriptorPool | None = None) -> dict[str, object]:
    return {
        "code": status.code,
        "message": status.message,
        "details": [_detail_json(d, pool) for d in status.details],
    }


def render_status(status: status_pb2.Status, pool: DescriptorPool | None = None) -> bytes:
    return json.dumps(status_json(status, pool), separators=(",", ":"), ensure_ascii=False).encode()
