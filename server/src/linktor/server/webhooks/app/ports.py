"""Ports of the webhooks context: storage, the event log, the network."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from linktor.server.shared.domain_events import EventRecorder
from linktor.server.shared.idempotency import IdempotencyRecord
from linktor.server.webhooks.domain.delivery import (
    Attempt,
    Delivery,
    DeliveryState,
    EndpointVerdict,
    Response,
)
from linktor.server.webhooks.domain.endpoint import WebhookEndpoint


class EndpointRepository(Protocol):
    async def add(self, endpoint: WebhookEndpoint) -> None: ...

    async def get(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...

    async def list(
        self, tenant_id: str, *, limit: int, after_id: str | None
    ) -> builtins.list[WebhookEndpoint]:
        """Oldest first (ids are time-ordered)."""
        ...

    async def count(self, tenant_id: str) -> int: ...

    async def update(self, endpoint: WebhookEndpoint, *, expected_version: int) -> WebhookEndpoint:
        """Store changes; Aborted when the stored version is not ``expected_version``."""
        ...

    async def delete(self, tenant_id: str, endpoint_id: str) -> bool:
        """Remove the endpoint with its deliveries and their attempts."""
        ...

    async def enabled_of(self, tenant_ids: Sequence[str]) -> builtins.list[WebhookEndpoint]:
        """The enabled endpoints of these tenants (privileged: the fan-out serves all)."""
        ...

    async def by_ids(self, endpoint_ids: Sequence[str]) -> dict[str, WebhookEndpoint]: ...

    async def mark_healthy(self, endpoint_ids: Sequence[str]) -> None:
        """A delivery succeeded: the endpoint is not failing any more."""
        ...

    async def mark_failing(self, endpoint_ids: Sequence[str], now: datetime) -> None:
        """An attempt failed: the endpoint is failing since now, unless it already was."""
        ...

    async def disable(
        self,
        endpoint_ids: Sequence[str],
        reason: str,
        now: datetime,
        *,
        failing_before: datetime | None = None,
    ) -> builtins.list[WebhookEndpoint]:
        """Disable the enabled ones of these endpoints (with ``failing_before``: only those
        failing since before then); the endpoints disabled by this call."""
        ...


class DeliveryRepository(Protocol):
    async def add_many(self, deliveries: Sequence[Delivery]) -> int:
        """Store new deliveries, skipping those whose (endpoint, dedupe_key) exists; how many
        were stored."""
        ...

    async def get(self, tenant_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None: ...

    async def attempts(self, delivery_id: str) -> builtins.list[Attempt]: ...

    async def list(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        limit: int,
        before_id: str | None,
        state: DeliveryState | None,
        event_type: str,
    ) -> builtins.list[Delivery]:
        """Newest first."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[Delivery]:
        """Lease up to ``limit`` pending deliveries that are due, of enabled endpoints, that no
        other worker holds (on PostgreSQL rows another transaction is claiming are skipped,
        not waited for)."""
        ...

    async def claim(
        self, delivery_id: str, now: datetime, lease_until: datetime
    ) -> Delivery | None:
        """Lease one pending delivery now, due or not (test sends, replays)."""
        ...

    async def postpone(self, delivery_ids: Sequence[str], until: datetime) -> None:
        """Give leases back without an attempt; the deliveries are due again at ``until``."""
        ...

    async def record(self, results: Sequence[AttemptResult], now: datetime) -> builtins.list[bool]:
        """Store each attempt and move its delivery on, when the delivery still has the
        attempt count its worker claimed it with; whether each was stored."""
        ...

    async def purge_finished(self, older_than: datetime, limit: int) -> int: ...


class WebhookUnitOfWork(Protocol):
    """One transaction over the webhooks context's repositories."""

    @property
    def endpoints(self) -> EndpointRepository: ...
    @property
    def deliveries(self) -> DeliveryRepository: ...
    @property
    def events(self) -> EventRecorder: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class IdempotencyStore(Protocol):
    async def get(
        self, tenant_id: str, scope: str, key: str, now: datetime
    ) -> IdempotencyRecord | None: ...

    async def put(
        self, tenant_id: str, scope: str, key: str, record: IdempotencyRecord, now: datetime
    ) -> None: ...


class WebhookStore(Protocol):
    def scoped(self, tenant_id: str) -> WebhookUnitOfWork:
        """A unit of work that sees only ``tenant_id``'s rows."""
        ...

    def privileged(self) -> WebhookUnitOfWork:
        """A unit of work over every tenant (the fan-out and the workers)."""
        ...


@dataclass(frozen=True)
class LoggedEvent:
    """An event from the tenant's event log."""

    sequence: int
    type: str
    payload: bytes
    create_time: datetime


class EventLog(Protocol):
    async def after(self, tenant_id: str, after_sequence: int, limit: int) -> list[LoggedEvent]:
        """Stored events with a greater sequence, in order."""
        ...

    async def first_sequence_at(self, tenant_id: str, start: datetime) -> int | None:
        """The first sequence of an event created at or after ``start``."""
        ...


@dataclass(frozen=True)
class AttemptResult:
    """One attempt of a claimed delivery and where it leaves the delivery."""

    delivery: Delivery
    attempt: Attempt
    state: DeliveryState
    next_attempt_time: datetime | None
    endpoint: EndpointVerdict


@dataclass(frozen=True)
class OutgoingRequest:
    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Sender(Protocol):
    """Makes the HTTP request (within the network policy, never following redirects)."""

    async def send(self, request: OutgoingRequest) -> Response: ...


class Destinations(Protocol):
    async def problem(self, url: str) -> str | None:
        """Why ``url`` may not be called (a non-public destination ...), or None."""
        ...
