"""Ports of the identity context: what its use cases need from the outside world."""

from __future__ import annotations

from typing import Protocol, Self

from linktor.server.identity.domain.tenant import Tenant, TenantState


class TenantRepository(Protocol):
    async def add(self, tenant: Tenant) -> None:
        """Store a new tenant; AlreadyExists when the id is taken."""
        ...

    async def get(self, tenant_id: str) -> Tenant | None: ...

    async def update(self, tenant: Tenant, *, expected_version: int) -> Tenant:
        """Store changes; Aborted when the stored version is not ``expected_version``.
        Returns the tenant with its new version."""
        ...

    async def list(
        self, *, limit: int, after_id: str | None = None, state: TenantState | None = None
    ) -> list[Tenant]:
        """Tenants ordered by id, after ``after_id``."""
        ...


class IdentityUnitOfWork(Protocol):
    """One transaction over the identity context's repositories."""

    tenants: TenantRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...
