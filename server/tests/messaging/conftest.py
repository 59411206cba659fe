"""Fixtures of the messaging tests: a tenant with a channel, on the backend under test."""

from __future__ import annotations

from dataclasses import dataclass

import pytest_asyncio
from lktest.seed import seed_channel, seed_tenant
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.shared.channel_types import ChannelType


@dataclass(frozen=True)
class Seeded:
    tenant_id: str
    channel_id: str


@pytest_asyncio.fixture
async def seeded(engine: AsyncEngine) -> Seeded:
    tenant_id = await seed_tenant(engine)
    return Seeded(tenant_id, await seed_channel(engine, tenant_id, ChannelType.WHATSAPP))
