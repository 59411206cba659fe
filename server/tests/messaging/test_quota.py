"""The plan's monthly message allowance is enforced at SendMessage, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from lktest.messaging import running_pipeline
from messaging.conftest import Seeded
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.config import PlanSettings, load_settings
from linktor.server.identity.module import build_identity
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.cache.memory import MemoryRateLimiter
from linktor.server.messaging.adapters.plan_quota import PlanMessageQuota
from linktor.server.messaging.adapters.tables import messages
from linktor.server.messaging.app.send import SendCommand
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.errors import FailedPrecondition
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import content_pb2

pytestmark = pytest.mark.integration


async def test_sends_past_the_monthly_allowance_are_refused_and_store_nothing(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        jwt_secret="x" * 40,
        plans={"free": PlanSettings(display_name="Free", messages_per_month=3)},
        default_plan="free",
    )
    identity = build_identity(settings, engine, MemoryRateLimiter(), SystemClock())
    quota = PlanMessageQuota(identity.plans)
    async with running_pipeline(engine, bus, start_worker=False, quota=quota) as p:
        p.channels.add(seeded.tenant_id, seeded.channel_id)
        principal = Principal(tenant_id=seeded.tenant_id, user_id="u", role=Role.AGENT)

        def command(i: int) -> SendCommand:
            return SendCommand(
                tenant_id=seeded.tenant_id,
                content=content_pb2.MessageContent(text=content_pb2.TextContent(body=f"q{i}")),
                channel_id=seeded.channel_id,
                address="+15550600",
            )

        for i in range(3):
            await p.send(principal, command(i))
        with pytest.raises(FailedPrecondition) as info:
            await p.send(principal, command(3))
        assert info.value.reason == "PLAN_LIMIT_EXCEEDED"
        assert info.value.metadata["limit"] == "messages_per_month"
        async with p.uow(seeded.tenant_id) as uow:
            stored = (
                await uow.connection.execute(
                    select(func.count()).where(messages.c.tenant_id == seeded.tenant_id)
                )
            ).scalar_one()
        assert stored == 3
