"""What messaging needs to know about a channel (implemented over the channels context)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from linktor.adapter.v1 import adapter_pb2
from linktor.server.messaging.domain.template_check import TemplateShape
from linktor.server.shared.channel_types import ChannelType
from linktor.v1 import channel_pb2


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    tenant_id: str
    type: ChannelType
    # False while outbound messages must wait (channel disabled, adapter restarting):
    # they are accepted and delivered later.
    enabled: bool
    capabilities: channel_pb2.ChannelCapabilities
    rate_per_second: float
    burst: int
    adapter_address: str
    # The decrypted configuration handed to the adapter with every call.
    config: adapter_pb2.ChannelConfig
    # False for a disabled channel: its webhooks are refused.
    accepts_webhooks: bool = True
    # Synced provider templates by (name, language); empty when never synced.
    templates: Mapping[tuple[str, str], TemplateShape] = field(default_factory=dict)


class ChannelLookup(Protocol):
    async def get(self, tenant_id: str, channel_id: str) -> ChannelInfo | None:
        """The channel, or None when it does not exist, is deleted or is another tenant's."""
        ...

    async def by_webhook_token(self, token: str) -> ChannelInfo | None:
        """The channel whose public webhook URL ends with ``token`` (any tenant), or None."""
        ...
