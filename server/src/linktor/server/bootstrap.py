"""The composition root: the one place that turns Settings into concrete adapters.

Tests build a Container with fakes instead; nothing else in the server constructs adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.channels.app.directory import ChannelDirectory
from linktor.server.channels.module import ChannelServices, build_channels
from linktor.server.config import Settings
from linktor.server.conversations.module import InboxServices, build_inbox
from linktor.server.identity.adapters.sql import SqlIdentityUnitOfWork
from linktor.server.identity.module import IdentityServices, build_identity
from linktor.server.infra.bus.factory import create_bus
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.cache.factory import create_cache, create_rate_limiter
from linktor.server.infra.cache.port import Cache, RateLimiter
from linktor.server.infra.db import migrate
from linktor.server.infra.db.engine import create_engine
from linktor.server.logs import get_logger
from linktor.server.media.module import MediaServices, build_media, url_key
from linktor.server.messaging.adapters.channel_lookup import DirectoryChannelLookup
from linktor.server.messaging.adapters.plan_quota import PlanMessageQuota
from linktor.server.messaging.domain.retry import RetryPolicy
from linktor.server.messaging.module import MessagingServices, build_messaging
from linktor.server.plugins.host import PluginHost
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.clock import Clock, SystemClock
from linktor.server.webchat.module import WebchatServices, build_webchat, session_key
from linktor.server.webhooks.module import WebhookServices, build_webhooks

log = get_logger(__name__)


@dataclass
class Container:
    """Everything the use cases and transports need, wired once per process."""

    settings: Settings
    engine: AsyncEngine
    bus: EventBus
    cache: Cache
    rate_limiter: RateLimiter
    clock: Clock = field(default_factory=SystemClock)
    # Identity and tenancy: the authenticator every transport calls, plan limits, use cases.
    identity: IdentityServices = field(init=False)
    # Channel adapters (plugins/port.py): started lazily on first use; tests may assign a fake.
    adapters: AdapterProvider = field(init=False)
    # The tenants' channels: use cases (ChannelService) and, for other contexts, the
    # directory they read per message (channels/app/directory.py). Built on the plugin host.
    channel_services: ChannelServices = field(init=False)
    channels: ChannelDirectory = field(init=False)
    # Attachments: media storage, AttachmentService, signed download URLs, uploads.
    media: MediaServices = field(init=False)
    # Sending, receiving, the event log and streams; the outbox relay and workers.
    messaging: MessagingServices = field(init=False)
    # Contacts and conversations (the agent inbox): use cases, servicers, snooze waker.
    inbox: InboxServices = field(init=False)
    # The Web Chat visitor endpoints (sessions, socket, uploads, /widget.js).
    webchat: WebchatServices = field(init=False)
    # Outbound webhooks: endpoints, the event fan-out, delivery workers, the delivery log.
    webhooks: WebhookServices = field(init=False)

    def __post_init__(self) -> None:
        self.identity = build_identity(self.settings, self.engine, self.rate_limiter, self.clock)
        self.adapters = host = PluginHost.from_settings(self.settings)
        self.channel_services = build_channels(
            self.settings, self.engine, host, self.identity.plans, self.clock
        )
        self.channels = self.channel_services.directory
        # Channels show DEGRADED while their adapter restarts or is unreachable.
        host.watch(self.channel_services.health.adapter_changed)
        media_secret = self.settings.media_url_secret
        self.media = build_media(
            engine=self.engine,
            clock=self.clock,
            authenticator=self.identity.authenticator,
            root=self.settings.effective_media_dir,
            key=url_key(
                media_secret.get_secret_value() if media_secret else None, self.settings.data_dir
            ),
            public_url=self.settings.effective_public_url,
            url_ttl=timedelta(seconds=self.settings.media_url_ttl_seconds),
            max_bytes=self.settings.media_max_bytes,
        )
        self.messaging = build_messaging(
            self.engine,
            self.bus,
            self.clock,
            self.rate_limiter,
            self.adapters,
            DirectoryChannelLookup(self.channels),
            media=self.media.attachments,
            provider_media=self.media.provider_media,
            media_max_bytes=self.settings.media_max_bytes,
            quota=PlanMessageQuota(self.identity.plans),
            retry_policy=RetryPolicy(
                base_seconds=self.settings.delivery_retry_base_seconds,
                max_delay_seconds=self.settings.delivery_retry_max_delay_seconds,
                max_attempts=self.settings.delivery_max_attempts,
            ),
            event_retention=timedelta(seconds=self.settings.event_retention_seconds),
            housekeeping_interval_seconds=self.settings.housekeeping_interval_seconds,
        )
        # After messaging: read receipts and typing go out through its hooks.
        self.inbox = build_inbox(
            self.engine,
            self.identity.users,
            self.clock,
            receipts=self.messaging.signals,
            typing=self.messaging.signals,
        )
        secret = self.settings.webchat_session_secret
        self.webchat = build_webchat(
            engine=self.engine,
            clock=self.clock,
            rate_limiter=self.rate_limiter,
            channels=self.channels,
            events=self.messaging.events,
            sink=self.messaging.persister,
            key=session_key(secret.get_secret_value() if secret else None, self.settings.data_dir),
            attachments=self.media.attachments,
            ephemeral=self.messaging.hub,
        )
        self.webhooks = build_webhooks(
            self.settings,
            self.engine,
            self.bus,
            self.rate_limiter,
            self.identity.plans,
            self.clock,
            on_commit=self.messaging.relay.wake,
        )

    def identity_uow(
        self, tenant_id: str | None = None, *, privileged: bool = False
    ) -> SqlIdentityUnitOfWork:
        """Scoped to ``tenant_id`` (RLS), or ``privileged`` (every tenant; see the ADR)."""
        return SqlIdentityUnitOfWork(self.engine, tenant_id=tenant_id, privileged=privileged)

    async def close(self) -> None:
        """Release everything, in reverse order of acquisition."""
        await self.adapters.close()
        await self.webhooks.close()
        await self.bus.close()
        await self.cache.close()
        await self.rate_limiter.close()
        await self.engine.dispose()


async def build_container(settings: Settings) -> Container:
    """Create the adapters the settings select, migrate SQLite, connect the bus."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.effective_database_url, pool_size=settings.db_pool_size)
    bus = create_bus(settings.nats_url)
    cache = create_cache(settings.redis_url)
    container = Container(
        settings=settings,
        engine=engine,
        bus=bus,
        cache=cache,
        rate_limiter=create_rate_limiter(settings.redis_url),
    )
    try:
        if settings.should_migrate_on_start:
            await migrate.upgrade(engine)
        await bus.start()
    except BaseException:
        await container.close()
        raise
    return container
