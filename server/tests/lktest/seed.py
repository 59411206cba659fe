"""Seeding rows the inbox tests need but whose contexts are built elsewhere: tenants,
channels and messages, written straight into their tables (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.channels.adapters.tables import channels
from linktor.server.identity.adapters.tables import tenants
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.messaging.adapters.tables import messages
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.ids import new_id
from lktest.services import unique_id

SEED_TIME = datetime(2026, 1, 1, tzinfo=UTC)


async def seed_tenant(engine: AsyncEngine, tenant_id: str | None = None) -> str:
    tenant_id = tenant_id or unique_id()
    async with SqlUnitOfWork(engine, privileged=True) as uow:
        await uow.connection.execute(
            insert(tenants).values(
                id=tenant_id,
                display_name="Acme",
                state="ACTIVE",
                plan="free",
                create_time=SEED_TIME,
                update_time=SEED_TIME,
            )
        )
        await uow.commit()
    return tenant_id


async def seed_channel(
    engine: AsyncEngine, tenant_id: str, channel_type: ChannelType = ChannelType.WHATSAPP
) -> str:
    channel_id = new_id()
    async with SqlUnitOfWork(engine, tenant_id=tenant_id) as uow:
        await uow.connection.execute(
            insert(channels).values(
                id=channel_id,
                tenant_id=tenant_id,
                type=channel_type.value,
                display_name=f"{channel_type.value.lower()} line",
                state="ACTIVE",
                config={},
                secret_keys=[],
                webhook_token=new_id(),
                allowed_origins=[],
                create_time=SEED_TIME,
                update_time=SEED_TIME,
            )
        )
        await uow.commit()
    return channel_id


async def insert_message(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    conversation_id: str,
    channel_id: str,
    contact_id: str,
    seq: int,
    create_time: datetime,
    body_text: str = "",
    direction: str = "INBOUND",
    status: str = "DELIVERED",
    message_id: str | None = None,
    **extra: Any,
) -> str:
    """A message row as messaging stores it (content left empty)."""
    message_id = message_id or new_id()
    await conn.execute(
        insert(messages).values(
            id=message_id,
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            seq=seq,
            channel_id=channel_id,
            contact_id=contact_id,
            direction=direction,
            sender_type="CONTACT" if direction == "INBOUND" else "USER",
            content=b"",
            body_text=body_text,
            status=status,
            metadata={},
            create_time=create_time,
            update_time=create_time,
            **extra,
        )
    )
    return message_id
