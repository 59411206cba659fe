"""The messaging ChannelLookup port over the channels context's ChannelDirectory."""

from __future__ import annotations

from linktor.server.channels.app.directory import ChannelDirectory, ChannelRuntime
from linktor.server.channels.domain.template import MessageTemplate
from linktor.server.messaging.app.channels import ChannelInfo
from linktor.server.messaging.domain.template_check import TemplateShape, TemplateSlot


def _shape(template: MessageTemplate) -> TemplateShape:
    counters: dict[str, int] = {}
    slots = []
    for component in template.components:
        kind = component.kind.value
        index = counters.get(kind, 0)
        counters[kind] = index + 1
        if component.parameter_count:
            slots.append(TemplateSlot(kind, index, component.parameter_count))
    return TemplateShape(template.template_name, template.language, template.status, tuple(slots))


def _info(runtime: ChannelRuntime) -> ChannelInfo:
    return ChannelInfo(
        id=runtime.channel_id,
        tenant_id=runtime.tenant_id,
        type=runtime.type,
        enabled=runtime.can_deliver,
        capabilities=runtime.capabilities,
        rate_per_second=runtime.rate_limit.per_second,
        burst=runtime.rate_limit.burst,
        adapter_address=runtime.adapter_address,
        config=runtime.config,
        accepts_webhooks=runtime.accepts_webhooks,
        templates={key: _shape(t) for key, t in runtime.templates.items()},
    )


class DirectoryChannelLookup:
    def __init__(self, directory: ChannelDirectory) -> None:
        self._directory = directory

    async def get(self, tenant_id: str, channel_id: str) -> ChannelInfo | None:
        runtime = await self._directory.get(tenant_id, channel_id)
        return None if runtime is None else _info(runtime)

    async def by_webhook_token(self, token: str) -> ChannelInfo | None:
        runtime = await self._directory.by_webhook_token(token)
        return None if runtime is None else _info(runtime)
