"""The one mapping from domain errors to gRPC status (and, through it, to HTTP).

Every error leaves the server as a google.rpc.Status with a google.rpc.ErrorInfo detail
(domain ``linktor.io``, reason from linktor.v1.ErrorReason without prefix), plus BadRequest
field violations or RetryInfo where they apply. The REST gateway turns the same status into
the HTTP code of the google.rpc.Code mapping and a JSON body, so both transports agree.
"""

from __future__ import annotations

import math
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from linktor.server.shared.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)

ERROR_DOMAIN = "linktor.io"

_CODES: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (NotFound, code_pb2.NOT_FOUND),
    (AlreadyExists, code_pb2.ALREADY_EXISTS),
    (FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (Aborted, code_pb2.ABORTED),
    (Unauthenticated, code_pb2.UNAUTHENTICATED),
    (PermissionDenied, code_pb2.PERMISSION_DENIED),
    (ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
    (Unavailable, code_pb2.UNAVAILABLE),
    (OutOfRange, code_pb2.OUT_OF_RANGE),
)


def status_code_of(error: DomainError) -> int:
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return code_pb2.INTERNAL


def to_status(error: DomainError) -> status_pb2.Status:
    """The google.rpc.Status for a domain error, with its details."""
    status = status_pb2.Status(code=status_code_of(error), message=error.message)
    info = error_details_pb2.ErrorInfo(
        reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
    )
    status.details.add().Pack(info)
    if isinstance(error, InvalidArgument) and error.violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        status.details.add().Pack(bad)
    if isinstance(error, ResourceExhausted) and error.retry_after is not None:
        seconds = max(error.retry_after, 0.0)
        whole = math.floor(seconds)
        delay = duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status


def internal_status(message: str = "internal error; it was logged") -> status_pb2.Status:
    """The status for an unexpected exception: no internals leak to the caller."""
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message)


async def abort_with(
    context: grpc.aio.ServicerContext[Any, Any], status: status_pb2.Status
) -> None:
    """Abort the RPC with a rich status (details in ``grpc-status-details-bin``)."""
    rich = rpc_status.to_status(status)
    await context.abort(rich.code, rich.details, rich.trailing_metadata)
