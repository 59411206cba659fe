"""The messaging ChannelLookup port over the channels context's ChannelDirectory."""

from __future__ import annotations

from linktor.server.channels.app.directory import ChannelDirectory, ChannelRuntime
from linktor.server.messaging.app.channels import ChannelInfo


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
