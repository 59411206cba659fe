"""The media ports over SQL: attachment metadata and the provider media id cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.media.adapters.tables import attachments, provider_media
from linktor.server.media.app.ports import ProviderMedia
from linktor.server.media.domain.attachment import Attachment
from linktor.server.shared.clock import Clock


def _attachment(row: Any) -> Attachment:
    return Attachment(
        id=row.id,
        tenant_id=row.tenant_id,
        filename=row.filename,
        mime_type=row.mime_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        storage_key=row.storage_key,
        create_time=row.create_time,
    )


class SqlAttachmentRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, attachment: Attachment) -> None:
        async with SqlUnitOfWork(self._engine, tenant_id=attachment.tenant_id) as uow:
            await uow.connection.execute(
                insert(attachments).values(
                    id=attachment.id,
                    tenant_id=attachment.tenant_id,
                    filename=attachment.filename,
                    mime_type=attachment.mime_type,
                    size_bytes=attachment.size_bytes,
                    sha256=attachment.sha256,
                    storage_key=attachment.storage_key,
                    create_time=attachment.create_time,
                )
            )
            await uow.commit()

    async def get(self, tenant_id: str, attachment_id: str) -> Attachment | None:
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id, read_only=True) as uow:
            row = (
                await uow.connection.execute(
                    select(attachments).where(
                        attachments.c.tenant_id == tenant_id, attachments.c.id == attachment_id
                    )
                )
            ).first()
        return None if row is None else _attachment(row)


class SqlProviderMediaCache:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def get(
        self, tenant_id: str, channel_id: str, attachment_id: str
    ) -> ProviderMedia | None:
        t = provider_media.c
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id, read_only=True) as uow:
            row = (
                await uow.connection.execute(
                    select(t.provider_media_id, t.expire_time).where(
                        t.tenant_id == tenant_id,
                        t.channel_id == channel_id,
                        t.attachment_id == attachment_id,
                    )
                )
            ).first()
        return None if row is None else ProviderMedia(row.provider_media_id, row.expire_time)

    async def put(
        self, tenant_id: str, channel_id: str, attachment_id: str, media: ProviderMedia
    ) -> None:
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id) as uow:
            conn = uow.connection
            make_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            values = {
                "provider_media_id": media.provider_media_id,
                "expire_time": media.expire_time,
                "create_time": self._clock.now(),
            }
            statement = make_insert(provider_media).values(
                channel_id=channel_id, attachment_id=attachment_id, tenant_id=tenant_id, **values
            )
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["channel_id", "attachment_id"], set_=values
                )
            )
            await uow.commit()
