"""SQL repository of webhook endpoints."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.shared.errors import Aborted
from linktor.server.webhooks.adapters.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from linktor.server.webhooks.domain.endpoint import RateLimit, WebhookEndpoint

_c = webhook_endpoints.c


def endpoint_from_row(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        tenant_id=row.tenant_id,
        url=row.url,
        create_time=row.create_time,
        update_time=row.update_time,
        sealed_secret=row.secret_ciphertext,
        event_types=tuple(row.event_types),
        description=row.description,
        disabled=row.disabled,
        disabled_reason=row.disabled_reason,
        headers=dict(row.headers),
        rate_limit=RateLimit(row.rate_per_second, row.rate_burst),
        retry_schedule=tuple(timedelta(seconds=s) for s in row.retry_schedule),
        sealed_previous_secret=row.previous_secret_ciphertext,
        previous_secret_expire_time=row.previous_secret_expire_time,
        failing_since=row.failing_since,
        version=row.version,
    )


def _changeable(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "description": endpoint.description,
        "disabled": endpoint.disabled,
        "disabled_reason": endpoint.disabled_reason,
        "headers": dict(endpoint.headers),
        "rate_per_second": endpoint.rate_limit.per_second,
        "rate_burst": endpoint.rate_limit.burst,
        "retry_schedule": [d.total_seconds() for d in endpoint.retry_schedule],
        "secret_ciphertext": endpoint.sealed_secret,
        "previous_secret_ciphertext": endpoint.sealed_previous_secret,
        "previous_secret_expire_time": endpoint.previous_secret_expire_time,
        "failing_since": endpoint.failing_since,
        "update_time": endpoint.update_time,
    }


class SqlEndpointRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, endpoint: WebhookEndpoint) -> None:
        await self._conn.execute(
            insert(webhook_endpoints).values(
                id=endpoint.id,
                tenant_id=endpoint.tenant_id,
                create_time=endpoint.create_time,
                version=endpoint.version,
                **_changeable(endpoint),
            )
        )

    async def get(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        row = (
            await self._conn.execute(
                select(webhook_endpoints).where(_c.tenant_id == tenant_id, _c.id == endpoint_id)
            )
        ).one_or_none()
        return None if row is None else endpoint_from_row(row)

    async def list(
        self, tenant_id: str, *, limit: int, after_id: str | None
    ) -> builtins.list[WebhookEndpoint]:
        query = (
            select(webhook_endpoints).where(_c.tenant_id == tenant_id).order_by(_c.id).limit(limit)
        )
        if after_id is not None:
            query = query.where(_c.id > after_id)
        return [endpoint_from_row(row) for row in await self._conn.execute(query)]

    async def count(self, tenant_id: str) -> int:
        query = select(func.count()).select_from(webhook_endpoints).where(_c.tenant_id == tenant_id)
        return int((await self._conn.execute(query)).scalar_one())

    async def update(self, endpoint: WebhookEndpoint, *, expected_version: int) -> WebhookEndpoint:
        result = await self._conn.execute(
            update(webhook_endpoints)
            .where(
                _c.tenant_id == endpoint.tenant_id,
                _c.id == endpoint.id,
                _c.version == expected_version,
            )
            .values(version=expected_version + 1, **_changeable(endpoint))
        )
        if result.rowcount != 1:
            raise Aborted(f"{endpoint.name} was changed concurrently; read it again and retry")
        return replace(endpoint, version=expected_version + 1)

    async def delete(self, tenant_id: str, endpoint_id: str) -> bool:
        doomed = select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.tenant_id == tenant_id,
            webhook_deliveries.c.endpoint_id == endpoint_id,
        )
        await self._conn.execute(
            delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(doomed))
        )
        await self._conn.execute(
            delete(webhook_deliveries).where(
                webhook_deliveries.c.tenant_id == tenant_id,
                webhook_deliveries.c.endpoint_id == endpoint_id,
            )
        )
        result = await self._conn.execute(
            delete(webhook_endpoints).where(_c.tenant_id == tenant_id, _c.id == endpoint_id)
        )
        return bool(result.rowcount)

    async def enabled_of(self, tenant_ids: Sequence[str]) -> builtins.list[WebhookEndpoint]:
        if not tenant_ids:
            return []
        query = select(webhook_endpoints).where(
            _c.tenant_id.in_(list(tenant_ids)), _c.disabled.is_(False)
        )
        return [endpoint_from_row(row) for row in await self._conn.execute(query)]

    async def by_ids(self, endpoint_ids: Sequence[str]) -> dict[str, WebhookEndpoint]:
        if not endpoint_ids:
            return {}
        query = select(webhook_endpoints).where(_c.id.in_(list(endpoint_ids)))
        return {row.id: endpoint_from_row(row) for row in await self._conn.execute(query)}

    async def mark_healthy(self, endpoint_ids: Sequence[str]) -> None:
        if endpoint_ids:
            await self._conn.execute(
                update(webhook_endpoints)
                .where(_c.id.in_(list(endpoint_ids)), _c.failing_since.is_not(None))
                .values(failing_since=None)
            )

    async def mark_failing(self, endpoint_ids: Sequence[str], now: datetime) -> None:
        if endpoint_ids:
            await self._conn.execute(
                update(webhook_endpoints)
                .where(_c.id.in_(list(endpoint_ids)), _c.failing_since.is_(None))
                .values(failing_since=now)
            )

    async def disable(
        self,
        endpoint_ids: Sequence[str],
        reason: str,
        now: datetime,
        *,
        failing_before: datetime | None = None,
    ) -> builtins.list[WebhookEndpoint]:
        if not endpoint_ids:
            return []
        condition: list[ColumnElement[bool]] = [
            _c.id.in_(list(endpoint_ids)),
            _c.disabled.is_(False),
        ]
        if failing_before is not None:
            condition.append(_c.failing_since <= failing_before)
        rows = await self._conn.execute(
            update(webhook_endpoints)
            .where(*condition)
            .values(
                disabled=True,
                disabled_reason=reason,
                update_time=now,
                version=_c.version + 1,
            )
            .returning(*webhook_endpoints.c)
        )
        return [endpoint_from_row(row) for row in rows]
