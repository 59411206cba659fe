"""Attachment metadata in the ``attachments`` table (the bytes are in media storage)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.messaging.adapters.tables import attachments
from linktor.server.webchat.app.ports import StoredAttachment


class SqlAttachmentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, attachment: StoredAttachment) -> None:
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

    async def get(self, tenant_id: str, attachment_id: str) -> StoredAttachment | None:
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id) as uow:
            row = (
                await uow.connection.execute(
                    select(attachments).where(
                        attachments.c.tenant_id == tenant_id, attachments.c.id == attachment_id
                    )
                )
            ).first()
        if row is None:
            return None
        return StoredAttachment(
            id=row.id,
            tenant_id=row.tenant_id,
            filename=row.filename,
            mime_type=row.mime_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            storage_key=row.storage_key,
            create_time=row.create_time,
        )
