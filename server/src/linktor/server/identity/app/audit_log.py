"""Recording and reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linktor.server.identity.app.ports import IdentityStore, IdentityUnitOfWork
from linktor.server.identity.domain.audit import AuditEntry, DetailValue
from linktor.server.shared.ids import new_id
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal


async def record(
    uow: IdentityUnitOfWork,
    *,
    tenant_id: str,
    action: str,
    actor: str,
    resource: str,
    now: datetime,
    success: bool = True,
    client_address: str = "",
    details: dict[str, DetailValue] | None = None,
) -> None:
    """Add an entry in ``uow`` (committed with the change it records)."""
    await uow.audit.add(
        AuditEntry(
            id=new_id(),
            tenant_id=tenant_id,
            create_time=now,
            action=action,
            actor=actor,
            resource=resource,
            success=success,
            client_address=client_address[:128],
            details=dict(details or {}),
        )
    )


@dataclass(frozen=True)
class Act:
    """What every audit entry of one call shares: who acts, from where, when."""

    actor: str
    client_address: str
    now: datetime

    async def record(
        self,
        uow: IdentityUnitOfWork,
        tenant_id: str,
        action: str,
        resource: str,
        *,
        success: bool = True,
        details: dict[str, DetailValue] | None = None,
    ) -> None:
        await record(
            uow,
            tenant_id=tenant_id,
            action=action,
            actor=self.actor,
            resource=resource,
            now=self.now,
            success=success,
            client_address=self.client_address,
            details=details,
        )


class AuditLog:
    def __init__(self, store: IdentityStore) -> None:
        self._store = store

    async def list_entries(
        self,
        principal: Principal,
        tenant_id: str,
        *,
        size: int,
        token: str,
        action_prefix: str,
        start_time: datetime | None,
    ) -> tuple[list[AuditEntry], str]:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        limit = page_size(size)
        filters = {
            "tenant": tenant_id,
            "action_prefix": action_prefix,
            "start": start_time.isoformat() if start_time else "",
        }
        position = PageToken.decode(token, filters)
        before = None
        if position is not None:
            before = (datetime.fromisoformat(str(position.last[0])), str(position.last[1]))
        async with self._store.scoped(tenant_id) as uow:
            entries = await uow.audit.list(
                tenant_id,
                limit=limit + 1,
                before=before,
                action_prefix=action_prefix,
                start_time=start_time,
            )
        next_token = ""
        if len(entries) > limit:
            entries = entries[:limit]
            last = entries[-1]
            next_token = PageToken(
                [last.create_time.isoformat(), last.id], fingerprint(filters)
            ).encode()
        return entries, next_token
