"""Normalized provider errors: building SendError values the core understands.

Failures of the provider are data in the response (``SendResponse.error``), never gRPC
errors: a gRPC error means the adapter itself failed. ``retryable`` decides whether the
core tries the same message again; ``retry_after`` is honoured before that retry.
"""

from __future__ import annotations

from typing import Final, TypedDict, Unpack

from google.protobuf import duration_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.v1 import message_pb2


class Code:
    """The error codes adapters use in ``MessageError.code`` (strings, open-ended)."""

    CONTENT_NOT_SUPPORTED: Final = "CONTENT_NOT_SUPPORTED"
    NOT_SUPPORTED: Final = "NOT_SUPPORTED"
    INVALID_CONFIG: Final = "INVALID_CONFIG"
    INVALID_RECIPIENT: Final = "INVALID_RECIPIENT"
    INVALID_CONTENT: Final = "INVALID_CONTENT"
    UNAUTHENTICATED: Final = "UNAUTHENTICATED"
    RATE_LIMITED: Final = "RATE_LIMITED"
    REPLY_WINDOW_CLOSED: Final = "REPLY_WINDOW_CLOSED"
    PROVIDER_UNAVAILABLE: Final = "PROVIDER_UNAVAILABLE"
    PROVIDER_ERROR: Final = "PROVIDER_ERROR"
    TIMEOUT: Final = "TIMEOUT"
    BLOCKED_ADDRESS: Final = "BLOCKED_ADDRESS"
    ADAPTER_ERROR: Final = "ADAPTER_ERROR"


class ErrorDetails(TypedDict, total=False):
    """The optional parts of a normalized error."""

    retryable: bool
    provider_code: str
    provider_message: str
    retry_after: float | None


def send_error(code: str, message: str, **details: Unpack[ErrorDetails]) -> adapter_pb2.SendError:
    """A SendError: ``retryable`` (default False), the provider's own ``provider_code`` and
    ``provider_message``, and ``retry_after`` in seconds."""
    error = adapter_pb2.SendError(
        error=message_pb2.MessageError(
            code=code,
            message=message,
            retryable=details.get("retryable", False),
            provider_code=details.get("provider_code", ""),
            provider_message=details.get("provider_message", ""),
        )
    )
    retry_after = details.get("retry_after")
    if retry_after is not None and retry_after > 0:
        error.retry_after.CopyFrom(_duration(retry_after))
    return error


def failed(code: str, message: str, **details: Unpack[ErrorDetails]) -> adapter_pb2.SendResponse:
    """A SendResponse carrying only an error (arguments as :func:`send_error`)."""
    return adapter_pb2.SendResponse(error=send_error(code, message, **details))


def not_supported(what: str) -> adapter_pb2.SendError:
    """A permanent refusal for a feature the channel does not have."""
    return send_error(Code.NOT_SUPPORTED, f"{what} is not supported by this channel")


def _duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))
