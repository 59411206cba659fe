"""SQL implementations of the channels context's repositories and unit of work."""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linktor.server.channels.adapters.tables import channels, message_templates
from linktor.server.channels.domain.channel import Channel, ChannelState, RateLimit
from linktor.server.channels.domain.template import (
    ComponentKind,
    MessageTemplate,
    TemplateComponent,
)
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.idempotency.store import SqlIdempotencyStore
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import Aborted, AlreadyExists


def _channel(row: Any) -> Channel:
    return Channel(
        id=row.id,
        tenant_id=row.tenant_id,
        type=ChannelType(row.type),
        display_name=row.display_name,
        state=ChannelState(row.state),
        state_reason=row.state_reason,
        config=dict(row.config),
        webhook_token=row.webhook_token,
        secret_keys=frozenset(row.secret_keys),
        sealed_secrets=row.secrets_ciphertext,
        rate_limit=RateLimit(row.rate_per_second, row.rate_burst),
        adapter_address=row.adapter_address,
        allowed_origins=tuple(row.allowed_origins),
        create_time=row.create_time,
        update_time=row.update_time,
        delete_time=row.delete_time,
        version=row.version,
    )


def _changeable(channel: Channel) -> dict[str, Any]:
    return {
        "display_name": channel.display_name,
        "state": channel.state.value,
        "state_reason": channel.state_reason,
        "config": dict(channel.config),
        "secrets_ciphertext": channel.sealed_secrets,
        "secret_keys": sorted(channel.secret_keys),
        "rate_per_second": channel.rate_limit.per_second,
        "rate_burst": channel.rate_limit.burst,
        "adapter_address": channel.adapter_address,
        "allowed_origins": list(channel.allowed_origins),
        "update_time": channel.update_time,
        "delete_time": channel.delete_time,
    }


class SqlChannelRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, channel: Channel) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(channels).values(
                        id=channel.id,
                        tenant_id=channel.tenant_id,
                        type=channel.type.value,
                        webhook_token=channel.webhook_token,
                        create_time=channel.create_time,
                        version=channel.version,
                        **_changeable(channel),
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"{channel.name} already exists") from exc

    async def get(
        self, tenant_id: str, channel_id: str, *, include_deleted: bool = False
    ) -> Channel | None:
        query = select(channels).where(
            channels.c.tenant_id == tenant_id, channels.c.id == channel_id
        )
        if not include_deleted:
            query = query.where(channels.c.delete_time.is_(None))
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else _channel(row)

    async def get_by_webhook_token(self, token: str) -> Channel | None:
        query = select(channels).where(
            channels.c.webhook_token == token, channels.c.delete_time.is_(None)
        )
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else _channel(row)

    async def list(
        self, tenant_id: str, *, limit: int, after_id: str | None, type: ChannelType | None
    ) -> builtins.list[Channel]:
        query = (
            select(channels)
            .where(channels.c.tenant_id == tenant_id, channels.c.delete_time.is_(None))
            .order_by(channels.c.id)
            .limit(limit)
        )
        if after_id is not None:
            query = query.where(channels.c.id > after_id)
        if type is not None:
            query = query.where(channels.c.type == type.value)
        return [_channel(row) for row in await self._conn.execute(query)]

    async def list_for_adapter(
        self, type: ChannelType | None, adapter_address: str
    ) -> builtins.list[Channel]:
        query = select(channels).where(
            channels.c.adapter_address == adapter_address, channels.c.delete_time.is_(None)
        )
        if not adapter_address:
            assert type is not None, "a launched adapter is found by its channel type"
            query = query.where(channels.c.type == type.value)
        return [_channel(row) for row in await self._conn.execute(query)]

    async def update(self, channel: Channel, *, expected_version: int) -> Channel:
        new_version = expected_version + 1
        result = await self._conn.execute(
            update(channels)
            .where(
                channels.c.tenant_id == channel.tenant_id,
                channels.c.id == channel.id,
                channels.c.version == expected_version,
            )
            .values(version=new_version, **_changeable(channel))
        )
        if result.rowcount != 1:
            raise Aborted(f"{channel.name} was changed concurrently; read it again")
        return replace(channel, version=new_version)

    async def count(self, tenant_id: str) -> int:
        query = select(func.count()).where(
            channels.c.tenant_id == tenant_id, channels.c.delete_time.is_(None)
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def lock_tenant(self, tenant_id: str) -> None:
        # SQLite transactions already hold the database's write lock (BEGIN IMMEDIATE).
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('linktor.channels:' || :tenant))"),
                {"tenant": tenant_id},
            )


def _component_json(component: TemplateComponent) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": component.kind.value}
    for key in ("format", "text", "button_sub_type", "button_text"):
        if getattr(component, key):
            data[key] = getattr(component, key)
    if component.parameter_count:
        data["parameter_count"] = component.parameter_count
    if component.parameter_names:
        data["parameter_names"] = list(component.parameter_names)
    return data


def _component(data: dict[str, Any]) -> TemplateComponent:
    return TemplateComponent(
        kind=ComponentKind(data["kind"]),
        format=data.get("format", ""),
        text=data.get("text", ""),
        parameter_count=int(data.get("parameter_count", 0)),
        button_sub_type=data.get("button_sub_type", ""),
        button_text=data.get("button_text", ""),
        parameter_names=tuple(data.get("parameter_names", ())),
    )


def _template(row: Any) -> MessageTemplate:
    return MessageTemplate(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        template_name=row.template_name,
        language=row.language,
        category=row.category,
        status=row.status,
        provider_template_id=row.provider_template_id,
        components=tuple(_component(c) for c in row.components),
        sync_time=row.sync_time,
    )


def _template_values(template: MessageTemplate) -> dict[str, Any]:
    return {
        "template_name": template.template_name,
        "language": template.language,
        "category": template.category,
        "status": template.status,
        "provider_template_id": template.provider_template_id,
        "components": [_component_json(c) for c in template.components],
        "sync_time": template.sync_time,
    }


class SqlTemplateRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def list(
        self,
        tenant_id: str,
        channel_id: str,
        *,
        limit: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> builtins.list[MessageTemplate]:
        t = message_templates.c
        query = (
            select(message_templates)
            .where(t.tenant_id == tenant_id, t.channel_id == channel_id)
            .order_by(t.template_name, t.language)
        )
        if after is not None:
            name, language = after
            query = query.where(
                (t.template_name > name) | ((t.template_name == name) & (t.language > language))
            )
        if limit is not None:
            query = query.limit(limit)
        return [_template(row) for row in await self._conn.execute(query)]

    async def add(self, template: MessageTemplate) -> None:
        await self._conn.execute(
            insert(message_templates).values(
                id=template.id,
                tenant_id=template.tenant_id,
                channel_id=template.channel_id,
                **_template_values(template),
            )
        )

    async def replace(self, template: MessageTemplate) -> None:
        await self._conn.execute(
            update(message_templates)
            .where(
                message_templates.c.tenant_id == template.tenant_id,
                message_templates.c.id == template.id,
            )
            .values(**_template_values(template))
        )

    async def remove(self, tenant_id: str, template_ids: builtins.list[str]) -> None:
        if template_ids:
            await self._conn.execute(
                delete(message_templates).where(
                    message_templates.c.tenant_id == tenant_id,
                    message_templates.c.id.in_(template_ids),
                )
            )

    async def touch(self, tenant_id: str, channel_id: str, sync_time: datetime) -> None:
        await self._conn.execute(
            update(message_templates)
            .where(
                message_templates.c.tenant_id == tenant_id,
                message_templates.c.channel_id == channel_id,
            )
            .values(sync_time=sync_time)
        )


class SqlChannelUnitOfWork(SqlUnitOfWork):
    channels: SqlChannelRepository
    templates: SqlTemplateRepository
    idempotency: SqlIdempotencyStore

    def _bind(self, conn: AsyncConnection) -> None:
        self.channels = SqlChannelRepository(conn)
        self.templates = SqlTemplateRepository(conn)
        self.idempotency = SqlIdempotencyStore(conn)


class SqlChannelStore:
    """Units of work on one engine: tenant-scoped (RLS) or privileged (every tenant)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def scoped(self, tenant_id: str) -> SqlChannelUnitOfWork:
        return SqlChannelUnitOfWork(self._engine, tenant_id=tenant_id)

    def privileged(self) -> SqlChannelUnitOfWork:
        return SqlChannelUnitOfWork(self._engine, privileged=True)
