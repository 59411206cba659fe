"""The web chat ports over the platform's other contexts (channels directory, contacts,
event log)."""

from __future__ import annotations

import asyncio

from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.channels.app.directory import ChannelDirectory, ChannelRuntime
from linktor.server.events.adapters.sql import SqlEventLog
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.messaging.adapters.uow import SqlMessagingUnitOfWork
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import Unavailable
from linktor.server.webchat.app.ports import WebchatChannel
from linktor.server.webchat.domain.settings import WidgetSettings

COLD_START_ATTEMPTS = 4


class DirectoryWebchatChannels:
    """Web chat channels by public key (the webhook token) through the cached directory."""

    def __init__(self, directory: ChannelDirectory) -> None:
        self._directory = directory

    async def by_key(self, key: str) -> WebchatChannel | None:
        runtime = await self._runtime(key)
        if runtime is None or runtime.type is not ChannelType.WEBCHAT:
            return None
        return WebchatChannel(
            tenant_id=runtime.tenant_id,
            channel_id=runtime.channel_id,
            key=key,
            settings=WidgetSettings.from_config(json_format.MessageToDict(runtime.config.config)),
            allowed_origins=runtime.allowed_origins,
            enabled=runtime.accepts_webhooks,
        )

    async def _runtime(self, key: str) -> ChannelRuntime | None:
        # The first visitor after a start may find the adapter still launching (the
        # directory waits 2 s for an adapter never seen): give it a few more seconds.
        for attempt in range(COLD_START_ATTEMPTS):
            try:
                return await self._directory.by_webhook_token(key)
            except Unavailable:
                if attempt == COLD_START_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5)
        return None


class SqlVisitorContacts:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def contact_of(self, tenant_id: str, visitor_id: str) -> str | None:
        async with SqlMessagingUnitOfWork(self._engine, self._clock, tenant_id=tenant_id) as uow:
            contact = await uow.contacts.find_by_identity(
                tenant_id, ChannelType.WEBCHAT, visitor_id
            )
        return None if contact is None else f"tenants/{tenant_id}/contacts/{contact.id}"


class SqlEventPositions:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def last_sequence(self, tenant_id: str) -> int:
        async with SqlUnitOfWork(self._engine, tenant_id=tenant_id) as uow:
            return await SqlEventLog(uow.connection).last_sequence(tenant_id)
