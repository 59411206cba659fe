"""Domain errors: the one exception hierarchy use cases raise.

Each error carries what the API layer needs to build a google.rpc.Status (code, reason,
metadata, field violations, retry delay) without the domain knowing about gRPC or HTTP. The
mapping to status codes lives in one place: ``linktor.server.api.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field of a request, named by its path (``content.text.body``)."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every error a use case raises on purpose.

    ``reason`` is one of linktor.v1.ErrorReason without its prefix, for example
    ``"REPLY_WINDOW_CLOSED"``; ``metadata`` is extra ErrorInfo metadata.
    """

    reason: str = "UNSPECIFIED"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(DomainError):
    """The request is malformed; ``violations`` name the fields."""

    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        violations: Sequence[FieldViolation] = (),
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)

    @classmethod
    def for_field(cls, field_path: str, description: str) -> InvalidArgument:
        return cls(f"{field_path}: {description}", [FieldViolation(field_path, description)])


class NotFound(DomainError):
    """The resource does not exist or is not visible to the caller (never says which)."""

    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    """The resource (or a unique key of it) already exists."""

    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The system is not in a state where the operation is allowed."""


class Aborted(DomainError):
    """A concurrency conflict, such as an etag mismatch; retrying may succeed."""

    reason = "ETAG_MISMATCH"


class Unauthenticated(DomainError):
    """Credentials are missing, malformed, expired or revoked."""

    reason = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this."""

    reason = "PERMISSION_DENIED"


class ResourceExhausted(DomainError):
    """A rate or quota limit was hit; ``retry_after`` says when to try again (seconds)."""

    reason = "RATE_LIMITED"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after = retry_after


class OutOfRange(DomainError):
    """A position (sequence, page) is outside what exists or is kept."""


class Unavailable(DomainError):
    """A backing service (database, bus, adapter) cannot be reached; retry later."""

    reason = "BACKEND_UNAVAILABLE"


@dataclass(frozen=True)
class ErrorDetails:
    """A serializable summary of a DomainError, for logs and tests."""

    kind: str
    message: str
    reason: str
    metadata: dict[str, str] = field(default_factory=dict)


def describe(error: DomainError) -> ErrorDetails:
    return ErrorDetails(type(error).__name__, error.message, error.reason, dict(error.metadata))
