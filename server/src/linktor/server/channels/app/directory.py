"""ChannelDirectory: what other contexts need about a channel to use it, per message.

Messaging (send, delivery workers) and the webhook ingress ask for a channel's runtime view:
type, state, adapter address, effective rate limit, capabilities, templates and the
decrypted ChannelConfig for adapter calls. They ask per message, so answers are cached in
process.

Staleness bound: an answer is at most ``ttl`` seconds old (default 5). When an entry expires
under load, the callers that miss it at the same time share one load (single flight) rather
than each taking a database connection for the same rows. Changes made through
this process's use cases drop the cached entry at once; changes made on another replica (or
by the adapter-health hook there) are seen within ``ttl``. Capabilities are the adapter's
last declaration (see capabilities.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from linktor.adapter.v1 import adapter_pb2
from linktor.server.channels.app.adapter_calls import adapter_config, channel_type_value
from linktor.server.channels.app.capabilities import AdapterCapabilities
from linktor.server.channels.app.channel_secrets import ChannelSecrets
from linktor.server.channels.app.ports import ChannelStore
from linktor.server.channels.app.webhook_urls import WebhookUrls
from linktor.server.channels.domain.channel import Channel, ChannelState, RateLimit
from linktor.server.channels.domain.template import MessageTemplate
from linktor.server.identity.app.ttl_cache import TtlCache
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import Unavailable
from linktor.v1 import channel_pb2

DEFAULT_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class ChannelRuntime:
    """A channel as the platform uses it. ``config`` holds decrypted secrets: pass it to
    adapter calls, never log it or keep it beyond the call."""

    tenant_id: str
    channel_id: str
    #: ``tenants/{tenant}/channels/{channel}``.
    name: str
    type: ChannelType
    #: linktor.v1.ChannelType number, for AdapterProvider.acquire.
    type_value: int
    state: ChannelState
    state_reason: str
    #: Empty for the built-in adapter of the type.
    adapter_address: str
    #: The channel's own limit, or the adapter's default_rate_limit; per_second 0 = none known.
    rate_limit: RateLimit
    capabilities: channel_pb2.ChannelCapabilities
    config: adapter_pb2.ChannelConfig = field(repr=False)
    allowed_origins: tuple[str, ...]
    #: By (template_name, language).
    templates: Mapping[tuple[str, str], MessageTemplate]

    @property
    def accepts_webhooks(self) -> bool:
        """False for a disabled channel (deleted ones are not in the directory). A degraded
        or failing channel still takes them: the provider's messages are not lost."""
        return self.state is not ChannelState.DISABLED

    @property
    def can_deliver(self) -> bool:
        """Whether outbound messages should go out now. They wait while DISABLED, while
        DEGRADED (the adapter is back soon) and in ERROR (the provider would refuse them
        until the configuration is fixed, which makes the channel ACTIVE again)."""
        return self.state is ChannelState.ACTIVE

    def template(self, name: str, language: str) -> MessageTemplate | None:
        return self.templates.get((name, language))


def effective_rate_limit(
    channel: Channel, capabilities: channel_pb2.ChannelCapabilities
) -> RateLimit:
    default = capabilities.default_rate_limit
    return channel.rate_limit.or_default(RateLimit(default.per_second, default.burst))


class ChannelDirectory:
    def __init__(
        self,
        store: ChannelStore,
        adapters: AdapterCapabilities,
        secrets: ChannelSecrets,
        webhook_urls: WebhookUrls,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._secrets = secrets
        self._urls = webhook_urls
        self._by_channel: TtlCache[tuple[str, str], ChannelRuntime | None] = TtlCache(
            ttl, clock=clock
        )
        # Tokens never change, so token -> channel is kept as long as the channel entry;
        # unknown tokens (scanners, old URLs) are remembered as None for ``ttl`` too.
        self._by_token: TtlCache[str, tuple[str, str] | None] = TtlCache(ttl, clock=clock)
        self._loading: dict[object, asyncio.Future[ChannelRuntime | None]] = {}

    async def get(self, tenant_id: str, channel_id: str) -> ChannelRuntime | None:
        """The channel, or None when it does not exist or is deleted. Unavailable when its
        adapter was never reachable (its capabilities are unknown)."""
        found, runtime = self._by_channel.get((tenant_id, channel_id))
        if found:
            return runtime
        return await self._single(
            (tenant_id, channel_id), lambda: self._load(tenant_id, channel_id)
        )

    async def _load(self, tenant_id: str, channel_id: str) -> ChannelRuntime | None:
        async with self._store.scoped(tenant_id) as uow:
            channel = await uow.channels.get(tenant_id, channel_id)
            templates = await uow.templates.list(tenant_id, channel_id) if channel else []
        return await self._remember((tenant_id, channel_id), channel, templates)

    async def _single(
        self, key: object, load: Callable[[], Awaitable[ChannelRuntime | None]]
    ) -> ChannelRuntime | None:
        """``load()``, shared by every caller asking for ``key`` while it runs."""
        future = self._loading.get(key)
        if future is None:
            future = asyncio.ensure_future(load())
            self._loading[key] = future

            def done(f: asyncio.Future[ChannelRuntime | None]) -> None:
                self._loading.pop(key, None)
                if not f.cancelled():
                    f.exception()  # seen: a caller that went away must not leave it unread

            future.add_done_callback(done)
        # Shielded: one caller giving up does not cancel the load the others wait for.
        return await asyncio.shield(future)

    async def by_webhook_token(self, token: str) -> ChannelRuntime | None:
        """The channel whose webhook URL ends with ``token`` (any tenant), or None."""
        found, key = self._by_token.get(token)
        if found:
            return None if key is None else await self.get(*key)
        return await self._single(("token", token), lambda: self._load_by_token(token))

    async def _load_by_token(self, token: str) -> ChannelRuntime | None:
        async with self._store.privileged() as uow:
            channel = await uow.channels.get_by_webhook_token(token)
            templates = await uow.templates.list(channel.tenant_id, channel.id) if channel else []
        if channel is None:
            self._by_token.put(token, None)
            return None
        key = (channel.tenant_id, channel.id)
        self._by_token.put(token, key)
        return await self._remember(key, channel, templates)

    def forget(self, channel: Channel) -> None:
        """Drop what is cached about ``channel`` (called after every local change)."""
        self._by_channel.drop((channel.tenant_id, channel.id))
        self._by_token.drop(channel.webhook_token)

    def forget_all(self) -> None:
        """Drop everything cached (tests; an operator's "reload")."""
        self._by_channel.clear()
        self._by_token.clear()

    async def _remember(
        self, key: tuple[str, str], channel: Channel | None, templates: list[MessageTemplate]
    ) -> ChannelRuntime | None:
        runtime = None if channel is None else await self._runtime(channel, templates)
        self._by_channel.put(key, runtime)
        return runtime

    async def _runtime(self, channel: Channel, templates: list[MessageTemplate]) -> ChannelRuntime:
        declared = await self._adapters.of(channel.type, channel.adapter_address)
        if declared is None:
            raise Unavailable(
                f"the adapter of {channel.name} is not available yet; try again later",
                reason="CHANNEL_UNAVAILABLE",
            )
        return ChannelRuntime(
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            name=channel.name,
            type=channel.type,
            type_value=channel_type_value(channel.type),
            state=channel.state,
            state_reason=channel.state_reason,
            adapter_address=channel.adapter_address,
            rate_limit=effective_rate_limit(channel, declared.capabilities),
            capabilities=declared.capabilities,
            config=adapter_config(
                channel, secrets=self._secrets.open(channel), webhook_url=self._urls.of(channel)
            ),
            allowed_origins=channel.allowed_origins,
            templates={t.key: t for t in templates},
        )
