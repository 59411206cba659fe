"""Ports of the channels context: what its use cases need from storage."""

from __future__ import annotations

import builtins
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from linktor.server.channels.domain.channel import Channel
from linktor.server.channels.domain.template import MessageTemplate
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.idempotency import IdempotencyRecord


class ChannelRepository(Protocol):
    async def add(self, channel: Channel) -> None: ...

    async def get(
        self, tenant_id: str, channel_id: str, *, include_deleted: bool = False
    ) -> Channel | None: ...

    async def get_by_webhook_token(self, token: str) -> Channel | None:
        """The channel (not deleted) whose webhook URL has ``token``, in any tenant (needs a
        privileged unit of work: the tenant is not known yet)."""
        ...

    async def list(
        self, tenant_id: str, *, limit: int, after_id: str | None, type: ChannelType | None
    ) -> builtins.list[Channel]:
        """Channels not deleted, oldest first (ids are time-ordered)."""
        ...

    async def list_for_adapter(
        self, type: ChannelType | None, adapter_address: str
    ) -> builtins.list[Channel]:
        """Channels (not deleted) of every tenant served by one adapter (privileged): the
        remote one at ``adapter_address``, or the launched one of ``type`` (address empty)."""
        ...

    async def update(self, channel: Channel, *, expected_version: int) -> Channel:
        """Store changes; Aborted when the stored version is not ``expected_version``.
        Returns the channel with its new version."""
        ...

    async def count(self, tenant_id: str) -> int:
        """Channels not deleted."""
        ...

    async def lock_tenant(self, tenant_id: str) -> None:
        """Serialize channel creation within a tenant until the transaction ends (so two
        concurrent creates cannot both pass the plan's channel limit)."""
        ...


class TemplateRepository(Protocol):
    async def list(
        self,
        tenant_id: str,
        channel_id: str,
        *,
        limit: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> builtins.list[MessageTemplate]:
        """Ordered by (template_name, language), after ``after`` when given."""
        ...

    async def add(self, template: MessageTemplate) -> None: ...

    async def replace(self, template: MessageTemplate) -> None:
        """Store a new definition for the template with ``template.id``."""
        ...

    async def remove(self, tenant_id: str, template_ids: builtins.list[str]) -> None: ...

    async def touch(self, tenant_id: str, channel_id: str, sync_time: datetime) -> None:
        """Set the sync time of every template of the channel."""
        ...


class IdempotencyKeys(Protocol):
    async def get(
        self, tenant_id: str, scope: str, key: str, now: datetime
    ) -> IdempotencyRecord | None: ...

    async def put(
        self, tenant_id: str, scope: str, key: str, record: IdempotencyRecord, now: datetime
    ) -> None:
        """ConcurrentRequest when another call stored the key first."""
        ...


class ChannelUnitOfWork(Protocol):
    """One transaction over the channels context's repositories."""

    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def templates(self) -> TemplateRepository: ...
    @property
    def idempotency(self) -> IdempotencyKeys: ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ChannelStore(Protocol):
    def scoped(self, tenant_id: str) -> ChannelUnitOfWork:
        """A unit of work that sees only ``tenant_id``'s rows."""
        ...

    def privileged(self) -> ChannelUnitOfWork:
        """A unit of work that sees every tenant (webhook ingress, adapter health)."""
        ...
