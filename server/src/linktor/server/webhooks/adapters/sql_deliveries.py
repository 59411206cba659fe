"""SQL repository of webhook deliveries and attempts: the durable queue and the log."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.webhooks.adapters.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from linktor.server.webhooks.app.ports import AttemptResult
from linktor.server.webhooks.domain.delivery import Attempt, Delivery, DeliveryState

_d = webhook_deliveries.c
_a = webhook_attempts.c
# A delivery due soon may be taken this much early (clock skew between replicas).
_DUE_TOLERANCE = timedelta(milliseconds=500)
_FINISHED = [DeliveryState.SUCCEEDED.value, DeliveryState.FAILED.value]


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        tenant_id=row.tenant_id,
        endpoint_id=row.endpoint_id,
        webhook_id=row.webhook_id,
        event_type=row.event_type,
        event_sequence=row.event_sequence,
        body=row.body,
        state=DeliveryState(row.state),
        create_time=row.create_time,
        attempt_count=row.attempt_count,
        next_attempt_time=row.next_attempt_time,
        retries=row.retries,
        dedupe_key=row.dedupe_key,
    )


def _row_of(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "tenant_id": d.tenant_id,
        "endpoint_id": d.endpoint_id,
        "webhook_id": d.webhook_id,
        "event_type": d.event_type,
        "event_sequence": d.event_sequence,
        "dedupe_key": d.dedupe_key,
        "body": d.body,
        "state": d.state.value,
        "attempt_count": d.attempt_count,
        "next_attempt_time": d.next_attempt_time,
        "lease_until": None,
        "retries": d.retries,
        "create_time": d.create_time,
        "update_time": d.create_time,
    }


def _attempt_from_row(row: Any) -> Attempt:
    return Attempt(
        delivery_id=row.delivery_id,
        number=row.number,
        start_time=row.start_time,
        http_status=row.http_status,
        latency=timedelta(milliseconds=row.latency_ms),
        response_body=row.response_body,
        error=row.error,
    )


class SqlDeliveryRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @property
    def _postgres(self) -> bool:
        return self._conn.dialect.name == "postgresql"

    async def add_many(self, deliveries: Sequence[Delivery]) -> int:
        if not deliveries:
            return 0
        make_insert = pg_insert if self._postgres else sqlite_insert
        statement = (
            make_insert(webhook_deliveries)
            .on_conflict_do_nothing(index_elements=["endpoint_id", "dedupe_key"])
            .returning(_d.id)
        )
        result = await self._conn.execute(statement, [_row_of(d) for d in deliveries])
        return len(result.all())

    async def get(self, tenant_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None:
        row = (
            await self._conn.execute(
                select(webhook_deliveries).where(
                    _d.tenant_id == tenant_id, _d.endpoint_id == endpoint_id, _d.id == delivery_id
                )
            )
        ).one_or_none()
        return None if row is None else delivery_from_row(row)

    async def attempts(self, delivery_id: str) -> builtins.list[Attempt]:
        query = select(webhook_attempts).where(_a.delivery_id == delivery_id).order_by(_a.number)
        return [_attempt_from_row(row) for row in await self._conn.execute(query)]

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
        query = (
            select(webhook_deliveries)
            .where(_d.tenant_id == tenant_id, _d.endpoint_id == endpoint_id)
            .order_by(_d.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(_d.id < before_id)
        if state is not None:
            query = query.where(_d.state == state.value)
        if event_type:
            query = query.where(_d.event_type == event_type)
        return [delivery_from_row(row) for row in await self._conn.execute(query)]

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[Delivery]:
        endpoint_enabled = exists().where(
            webhook_endpoints.c.id == _d.endpoint_id, webhook_endpoints.c.disabled.is_(False)
        )
        due = (
            select(_d.id)
            .where(
                _d.state == DeliveryState.PENDING.value,
                _d.next_attempt_time <= now + _DUE_TOLERANCE,
                or_(_d.lease_until.is_(None), _d.lease_until < now),
                endpoint_enabled,
            )
            .order_by(_d.next_attempt_time)
            .limit(limit)
        )
        if self._postgres:
            # Rows another worker is claiming are skipped, not waited for.
            due = due.with_for_update(skip_locked=True, of=webhook_deliveries)
        rows = await self._conn.execute(
            update(webhook_deliveries)
            .where(_d.id.in_(due.scalar_subquery()))
            .values(lease_until=lease_until)
            .returning(*webhook_deliveries.c)
        )
        return [delivery_from_row(row) for row in rows]

    async def claim(
        self, delivery_id: str, now: datetime, lease_until: datetime
    ) -> Delivery | None:
        row = (
            await self._conn.execute(
                update(webhook_deliveries)
                .where(
                    _d.id == delivery_id,
                    _d.state == DeliveryState.PENDING.value,
                    or_(_d.lease_until.is_(None), _d.lease_until < now),
                )
                .values(lease_until=lease_until)
                .returning(*webhook_deliveries.c)
            )
        ).one_or_none()
        return None if row is None else delivery_from_row(row)

    async def postpone(self, delivery_ids: Sequence[str], until: datetime) -> None:
        if delivery_ids:
            await self._conn.execute(
                update(webhook_deliveries)
                .where(_d.id.in_(list(delivery_ids)))
                .values(lease_until=None, next_attempt_time=until)
            )

    async def record(self, results: Sequence[AttemptResult], now: datetime) -> builtins.list[bool]:
        stored: list[bool] = []
        attempts: list[dict[str, Any]] = []
        for result in results:
            attempt = result.attempt
            # Only the worker that claimed attempt N may record it (a lease that expired
            # under a slow worker lets another one in; the later record is dropped).
            moved = await self._conn.execute(
                update(webhook_deliveries)
                .where(_d.id == result.delivery.id, _d.attempt_count == attempt.number - 1)
                .values(
                    state=result.state.value,
                    attempt_count=attempt.number,
                    next_attempt_time=result.next_attempt_time,
                    lease_until=None,
                    update_time=now,
                )
            )
            ok = moved.rowcount == 1
            stored.append(ok)
            if ok:
                attempts.append(
                    {
                        "delivery_id": attempt.delivery_id,
                        "number": attempt.number,
                        "tenant_id": result.delivery.tenant_id,
                        "start_time": attempt.start_time,
                        "http_status": attempt.http_status,
                        "latency_ms": round(attempt.latency.total_seconds() * 1000),
                        "response_body": attempt.response_body,
                        "error": attempt.error,
                    }
                )
        if attempts:
            await self._conn.execute(insert(webhook_attempts), attempts)
        return stored

    async def purge_finished(self, older_than: datetime, limit: int) -> int:
        doomed = [
            row.id
            for row in await self._conn.execute(
                select(_d.id)
                .where(_d.state.in_(_FINISHED), _d.update_time < older_than)
                .limit(limit)
            )
        ]
        if doomed:
            await self._conn.execute(delete(webhook_attempts).where(_a.delivery_id.in_(doomed)))
            await self._conn.execute(delete(webhook_deliveries).where(_d.id.in_(doomed)))
        return len(doomed)
