"""The normalized delivery error, the same for every channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DeliveryError:
    """Why a delivery attempt failed (linktor.v1.MessageError)."""

    code: str
    message: str
    retryable: bool
    provider_code: str = ""
    provider_message: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DeliveryError | None:
        return None if not data else cls(**data)


# Codes Linktor itself assigns (adapters use their own codes plus these where they apply).
ADAPTER_UNAVAILABLE = "ADAPTER_UNAVAILABLE"
ADAPTER_ERROR = "ADAPTER_ERROR"
TIMEOUT = "TIMEOUT"
MAX_ATTEMPTS_EXCEEDED = "MAX_ATTEMPTS_EXCEEDED"
EXPIRED = "EXPIRED"
CHANNEL_DELETED = "CHANNEL_DELETED"
