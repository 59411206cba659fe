"""Every exception the SDK raises, in one place.

A failed call raises a subclass of :class:`LinktorError`, built from the ``google.rpc.Status``
the server sends: the gRPC code, the message, the ``ErrorInfo`` reason and metadata, the
``BadRequest`` field violations and the ``RetryInfo`` delay. The class follows the reason when
Linktor names a specific one, else the gRPC code::

    LinktorError                      code, reason, message, metadata, method, request_id
    ├── InvalidArgument               INVALID_ARGUMENT; .field_violations
    ├── NotFound                      NOT_FOUND (also another tenant's resources)
    ├── AlreadyExists                 ALREADY_EXISTS
    │   └── RequestIdReused           REQUEST_ID_REUSED: same request_id, different request
    ├── FailedPrecondition            FAILED_PRECONDITION
    │   ├── ReplyWindowClosed         REPLY_WINDOW_CLOSED: send a template instead
    │   ├── PlanLimitExceeded         PLAN_LIMIT_EXCEEDED; .metadata["limit"]
    │   ├── FeatureNotInPlan          FEATURE_NOT_IN_PLAN; .metadata["feature"]
    │   └── ChannelUnavailable        CHANNEL_UNAVAILABLE (also when sent as UNAVAILABLE)
    ├── Aborted                       ABORTED (ETAG_MISMATCH: re-read and retry)
    ├── Unauthenticated               UNAUTHENTICATED: missing, bad, expired or revoked
    │   └── RefreshTokenReused        REFRESH_TOKEN_REUSED: the session was revoked
    ├── PermissionDenied              PERMISSION_DENIED: role or API key scope
    │   └── TenantSuspended           TENANT_SUSPENDED
    ├── RateLimited                   RESOURCE_EXHAUSTED; .retry_after (seconds)
    ├── OutOfRange                    OUT_OF_RANGE
    │   └── EventSequenceExpired      EVENT_SEQUENCE_EXPIRED; .resume_sequence
    ├── Unavailable                   UNAVAILABLE: server or backend down, retried for you
    ├── DeadlineExceeded              DEADLINE_EXCEEDED: the call's timeout passed
    ├── Cancelled                     CANCELLED
    ├── Unimplemented                 UNIMPLEMENTED
    └── InternalError                 INTERNAL, UNKNOWN, DATA_LOSS

:class:`WebhookVerificationError` (a bad webhook signature) is not a call failure and does not
derive from LinktorError. Nothing else escapes the SDK: gRPC's own ``RpcError`` never does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import grpc
from google.rpc import error_details_pb2, status_pb2

#: The ErrorInfo domain of Linktor's errors.
ERROR_DOMAIN = "linktor.io"
_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field of a request: its path (``content.text.body``) and what is wrong."""

    field: str
    description: str


class LinktorError(Exception):
    """A call to Linktor failed. Subclasses say how; the attributes say why.

    Attributes:
        code: the gRPC status code.
        reason: the ErrorInfo reason (``"REPLY_WINDOW_CLOSED"``), empty if none was sent.
        message: the server's explanation, for people.
        metadata: the ErrorInfo metadata (``{"limit": "channels", ...}``).
        field_violations: the BadRequest violations (INVALID_ARGUMENT).
        retry_after: the RetryInfo delay in seconds, when the server gave one.
        method: the full gRPC method (``/linktor.v1.MessageService/SendMessage``).
        request_id: the idempotency key the call carried, if any: retry with it.
    """

    #: The gRPC code this class stands for (used when the server sent no reason).
    grpc_code: ClassVar[grpc.StatusCode | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        reason: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: Sequence[FieldViolation] = (),
        retry_after: float | None = None,
        method: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations: tuple[FieldViolation, ...] = tuple(field_violations)
        self.retry_after = retry_after
        self.method = method
        self.request_id = request_id

    def __str__(self) -> str:
        label = self.reason or self.code.name
        text = f"{label}: {self.message}" if self.message else label
        unsaid = [v for v in self.field_violations if v.field not in self.message]
        if unsaid:
            text += " (" + "; ".join(f"{v.field}: {v.description}" for v in unsaid) + ")"
        return text


class InvalidArgument(LinktorError):
    """The request is invalid; ``field_violations`` names every bad field."""

    grpc_code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(LinktorError):
    """The resource does not exist, or belongs to another tenant."""

    grpc_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(LinktorError):
    """The resource already exists."""

    grpc_code = grpc.StatusCode.ALREADY_EXISTS


class RequestIdReused(AlreadyExists):
    """The request_id was used before for a different request (AIP-155)."""


class FailedPrecondition(LinktorError):
    """The system is not in a state where the call can succeed."""

    grpc_code = grpc.StatusCode.FAILED_PRECONDITION


class ReplyWindowClosed(FailedPrecondition):
    """The conversation's reply window is closed: only template messages can be sent."""


class PlanLimitExceeded(FailedPrecondition):
    """A limit of the tenant's plan was reached; ``metadata["limit"]`` names it."""


class FeatureNotInPlan(FailedPrecondition):
    """The tenant's plan lacks the feature; ``metadata["feature"]`` names it."""


class ChannelUnavailable(FailedPrecondition):
    """The channel is disabled, or its adapter is not available."""


class Aborted(LinktorError):
    """A concurrent change won (an etag no longer matches): read again, then retry."""

    grpc_code = grpc.StatusCode.ABORTED


class Unauthenticated(LinktorError):
    """The credentials are missing, malformed, expired or revoked."""

    grpc_code = grpc.StatusCode.UNAUTHENTICATED


class RefreshTokenReused(Unauthenticated):
    """A rotated refresh token was presented again: the whole session was revoked."""


class PermissionDenied(LinktorError):
    """The caller's role or API key scopes do not allow the call."""

    grpc_code = grpc.StatusCode.PERMISSION_DENIED


class TenantSuspended(PermissionDenied):
    """The tenant is suspended; ``metadata["reason"]`` says why."""


class RateLimited(LinktorError):
    """Too many calls; ``retry_after`` says how many seconds to wait."""

    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class OutOfRange(LinktorError):
    """A value is past the valid range."""

    grpc_code = grpc.StatusCode.OUT_OF_RANGE


class EventSequenceExpired(OutOfRange):
    """The events after the requested sequence are no longer kept.

    Reload the resources you mirror, then stream from ``resume_sequence``.
    """

    @property
    def resume_sequence(self) -> int:
        """The sequence to stream from after resynchronizing."""
        try:
            return int(self.metadata.get("resume_sequence", "0"))
        except ValueError:
            return 0


class Unavailable(LinktorError):
    """The server or one of its backends is unavailable (retried with backoff first)."""

    grpc_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(LinktorError):
    """The call did not finish within its timeout."""

    grpc_code = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(LinktorError):
    """The call was cancelled."""

    grpc_code = grpc.StatusCode.CANCELLED


class Unimplemented(LinktorError):
    """The server does not implement the method (yet)."""

    grpc_code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(LinktorError):
    """The server failed unexpectedly (the failure was logged there)."""

    grpc_code = grpc.StatusCode.INTERNAL


class WebhookVerificationError(Exception):
    """A webhook's signature, timestamp or body is not valid: do not trust it."""


_BY_REASON: dict[str, type[LinktorError]] = {
    "REQUEST_ID_REUSED": RequestIdReused,
    "REPLY_WINDOW_CLOSED": ReplyWindowClosed,
    "PLAN_LIMIT_EXCEEDED": PlanLimitExceeded,
    "FEATURE_NOT_IN_PLAN": FeatureNotInPlan,
    "CHANNEL_UNAVAILABLE": ChannelUnavailable,
    "REFRESH_TOKEN_REUSED": RefreshTokenReused,
    "TENANT_SUSPENDED": TenantSuspended,
    "EVENT_SEQUENCE_EXPIRED": EventSequenceExpired,
    "RATE_LIMITED": RateLimited,
}

_BY_CODE: dict[grpc.StatusCode, type[LinktorError]] = {
    cls.grpc_code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        Aborted,
        Unauthenticated,
        PermissionDenied,
        RateLimited,
        OutOfRange,
        Unavailable,
        DeadlineExceeded,
        Cancelled,
        Unimplemented,
        InternalError,
    )
    if cls.grpc_code is not None
}


def error_class(code: grpc.StatusCode, reason: str) -> type[LinktorError]:
    """The exception class for a status code and an ErrorInfo reason."""
    return _BY_REASON.get(reason) or _BY_CODE.get(code, InternalError)


def _status_of(error: grpc.RpcError) -> status_pb2.Status | None:
    trailers: Any = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == _DETAILS_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    return None


def from_rpc_error(error: grpc.RpcError, *, method: str = "", request_id: str = "") -> LinktorError:
    """The typed exception for a failed gRPC call (sync or asyncio)."""
    code: grpc.StatusCode = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message: str = (error.details() if hasattr(error, "details") else "") or ""
    reason, metadata, retry_after = "", {}, None
    violations: list[FieldViolation] = []
    status = _status_of(error)
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            delay = error_details_pb2.RetryInfo()
            detail.Unpack(delay)
            retry_after = delay.retry_delay.ToTimedelta().total_seconds()
    return error_class(code, reason)(
        message,
        code=code,
        reason=reason,
        metadata=metadata,
        field_violations=violations,
        retry_after=retry_after,
        method=method,
        request_id=request_id,
    )
