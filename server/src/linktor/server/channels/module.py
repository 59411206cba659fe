"""The channels context wired from settings: built once by the composition root
(bootstrap.Container); tests build it with a fake AdapterProvider."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.channels.adapters.sql import SqlChannelStore
from linktor.server.channels.app.adapter_health import AdapterHealth
from linktor.server.channels.app.capabilities import AdapterCapabilities
from linktor.server.channels.app.channel_secrets import ChannelSecrets
from linktor.server.channels.app.channels import ChannelAdmin
from linktor.server.channels.app.directory import ChannelDirectory
from linktor.server.channels.app.templates import TemplateCatalog
from linktor.server.channels.app.webhook_urls import WebhookUrls
from linktor.server.config import Settings
from linktor.server.identity.app.plans import PlanLimits
from linktor.server.infra.secrets.factory import create_secret_box
from linktor.server.infra.secrets.port import SecretBox
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.clock import Clock


@dataclass
class ChannelServices:
    admin: ChannelAdmin
    templates: TemplateCatalog
    directory: ChannelDirectory
    # An AdapterObserver: subscribe it to the plugin host (PluginHost.watch).
    health: AdapterHealth


def build_channels(
    settings: Settings,
    engine: AsyncEngine,
    adapters: AdapterProvider,
    plans: PlanLimits,
    clock: Clock,
    *,
    box: SecretBox | None = None,
) -> ChannelServices:
    store = SqlChannelStore(engine)
    capabilities = AdapterCapabilities(adapters)
    secrets = ChannelSecrets(box or create_secret_box(settings))
    urls = WebhookUrls(settings.effective_public_url)
    directory = ChannelDirectory(store, capabilities, secrets, urls)
    return ChannelServices(
        admin=ChannelAdmin(
            store, capabilities, secrets, plans, clock, urls, on_change=directory.forget
        ),
        templates=TemplateCatalog(
            store, capabilities, secrets, clock, urls, on_change=directory.forget
        ),
        directory=directory,
        health=AdapterHealth(store, clock, on_change=directory.forget),
    )
