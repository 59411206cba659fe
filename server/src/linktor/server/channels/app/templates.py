"""Use cases of a channel's message templates: list them as last synced, sync them from the
provider through the channel's adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from linktor.server.channels.app.adapter_calls import adapter_config, list_templates
from linktor.server.channels.app.capabilities import AdapterCapabilities
from linktor.server.channels.app.channel_secrets import ChannelSecrets
from linktor.server.channels.app.ports import ChannelStore, ChannelUnitOfWork
from linktor.server.channels.app.webhook_urls import WebhookUrls
from linktor.server.channels.domain.channel import Channel
from linktor.server.channels.domain.template import (
    ComponentKind,
    MessageTemplate,
    TemplateComponent,
    reconcile,
)
from linktor.server.logs import get_logger
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import FailedPrecondition, NotFound
from linktor.server.shared.ids import new_id
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal
from linktor.v1 import channel_pb2, content_pb2

log = get_logger(__name__)

_KINDS = {
    content_pb2.TEMPLATE_COMPONENT_TYPE_HEADER: ComponentKind.HEADER,
    content_pb2.TEMPLATE_COMPONENT_TYPE_BODY: ComponentKind.BODY,
    content_pb2.TEMPLATE_COMPONENT_TYPE_BUTTON: ComponentKind.BUTTON,
    content_pb2.TEMPLATE_COMPONENT_TYPE_FOOTER: ComponentKind.FOOTER,
}
# Column widths of message_templates: a provider value that does not fit is not stored.
_LIMITS = {"template_name": 512, "language": 16, "category": 32, "status": 32}


@dataclass(frozen=True)
class SyncResult:
    template_count: int
    changed_count: int


def _fits(template: channel_pb2.MessageTemplate) -> bool:
    if not template.template_name or not template.language:
        return False
    if len(template.provider_template_id) > 128:
        return False
    return all(len(getattr(template, key)) <= size for key, size in _LIMITS.items())


def templates_from_adapter(
    channel: Channel, fetched: Iterable[channel_pb2.MessageTemplate], clock: Clock
) -> list[MessageTemplate]:
    """The adapter's templates as domain objects of ``channel`` (new ids; a sync keeps the
    stored id of a template it already knows)."""
    now = clock.now()
    result: list[MessageTemplate] = []
    skipped = 0
    for item in fetched:
        if not _fits(item):
            skipped += 1
            continue
        components = tuple(
            TemplateComponent(
                kind=_KINDS[c.type],
                format=c.format,
                text=c.text,
                parameter_count=max(c.parameter_count, 0),
                button_sub_type=c.button_sub_type,
                button_text=c.button_text,
                parameter_names=tuple(c.parameter_names),
            )
            for c in item.components
            if c.type in _KINDS
        )
        result.append(
            MessageTemplate(
                id=new_id(),
                tenant_id=channel.tenant_id,
                channel_id=channel.id,
                template_name=item.template_name,
                language=item.language,
                category=item.category,
                status=item.status,
                provider_template_id=item.provider_template_id,
                components=components,
                sync_time=now,
            )
        )
    if skipped:
        log.warning(
            "templates skipped: no name or language, or too long",
            channel=channel.name,
            count=skipped,
        )
    return result


class TemplateCatalog:
    def __init__(
        self,
        store: ChannelStore,
        adapters: AdapterCapabilities,
        secrets: ChannelSecrets,
        clock: Clock,
        webhook_urls: WebhookUrls,
        on_change: Callable[[Channel], None] = lambda _channel: None,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._secrets = secrets
        self._clock = clock
        self._urls = webhook_urls
        # Told after a sync (the ChannelDirectory holds templates with the channel).
        self._on_change = on_change

    async def _channel(self, uow: ChannelUnitOfWork, tenant_id: str, channel_id: str) -> Channel:
        channel = await uow.channels.get(tenant_id, channel_id)
        if channel is None:
            raise NotFound(f"tenants/{tenant_id}/channels/{channel_id} not found")
        return channel

    async def list(
        self, principal: Principal, tenant_id: str, channel_id: str, *, size: int, token: str
    ) -> tuple[list[MessageTemplate], str]:
        """By template name, then language."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/channels/{channel_id}")
        limit = page_size(size)
        filters = {"tenant": tenant_id, "channel": channel_id}
        position = PageToken.decode(token, filters)
        after = (str(position.last[0]), str(position.last[1])) if position else None
        async with self._store.scoped(tenant_id) as uow:
            await self._channel(uow, tenant_id, channel_id)
            found = await uow.templates.list(tenant_id, channel_id, limit=limit + 1, after=after)
        next_token = ""
        if len(found) > limit:
            found = found[:limit]
            next_token = PageToken(list(found[-1].key), fingerprint(filters)).encode()
        return found, next_token

    async def sync(self, principal: Principal, tenant_id: str, channel_id: str) -> SyncResult:
        """Fetch the templates from the provider; store new and changed ones, drop the ones
        the provider no longer has."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/channels/{channel_id}")
        async with self._store.scoped(tenant_id) as uow:
            channel = await self._channel(uow, tenant_id, channel_id)
        handle = await self._adapters.handle(channel.type, channel.adapter_address)
        if not handle.capabilities.capabilities.supports_templates:
            raise FailedPrecondition(f"{channel.type.value} channels have no message templates")
        config = adapter_config(
            channel, secrets=self._secrets.open(channel), webhook_url=self._urls.of(channel)
        )
        reply = await list_templates(handle, config)
        fetched = templates_from_adapter(channel, reply.templates, self._clock)
        now = self._clock.now()
        async with self._store.scoped(tenant_id) as uow:
            await uow.channels.lock_tenant(tenant_id)  # one sync at a time
            await self._channel(uow, tenant_id, channel_id)  # not deleted meanwhile
            changes = reconcile(await uow.templates.list(tenant_id, channel_id), fetched)
            await uow.templates.remove(tenant_id, [t.id for t in changes.removed])
            for template in changes.changed:
                await uow.templates.replace(template)
            for template in changes.added:
                await uow.templates.add(template)
            await uow.templates.touch(tenant_id, channel_id, now)
            await uow.commit()
        log.info(
            "templates synced",
            channel=channel.name,
            fetched=len(fetched),
            added=len(changes.added),
            changed=len(changes.changed),
            removed=len(changes.removed),
        )
        self._on_change(channel)
        return SyncResult(len(reply.templates), changes.count)
