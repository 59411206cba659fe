"""What the endpoint use cases take in, independent of the transport."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from linktor.server.webhooks.domain.endpoint import RateLimit


@dataclass(frozen=True)
class EndpointDraft:
    """An endpoint to create."""

    url: str
    event_types: tuple[str, ...] = ()
    description: str = ""
    disabled: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    retry_schedule: tuple[timedelta, ...] = ()


@dataclass(frozen=True)
class EndpointPatch:
    """Changes to an endpoint; None leaves a field as it is."""

    url: str | None = None
    event_types: tuple[str, ...] | None = None
    description: str | None = None
    disabled: bool | None = None
    headers: Mapping[str, str] | None = None
    rate_limit: RateLimit | None = None
    retry_schedule: tuple[timedelta, ...] | None = None
    etag: str = ""
