"""The channels context on a real database, behind the real gRPC server and authentication
(lktest.identity), with its adapters served in process: the fake adapter
(linktor.adapters.fake) over a real grpc.aio server, so ValidateConfig, CheckChannel and
ListTemplates go through the real ChannelAdapter contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.adapters.fake.adapter import FakeAdapter
from linktor.server.channels.api.registrations import channel_registrations
from linktor.server.channels.module import ChannelServices, build_channels
from linktor.server.config import Settings
from linktor.server.identity.module import IdentityServices
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.infra.secrets.aes_gcm import AesGcmSecretBox
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.errors import Unavailable
from linktor.v1 import channel_pb2, channel_pb2_grpc, common_pb2, content_pb2
from lktest.identity import IdentityServer, start_identity_server
from lktest.services import free_port

WHATSAPP = common_pb2.CHANNEL_TYPE_WHATSAPP
WEBCHAT = common_pb2.CHANNEL_TYPE_WEBCHAT
SECRETS_KEY = bytes(range(32))


def template(
    name: str, language: str = "en_US", *, status: str = "APPROVED", body_params: int = 1
) -> channel_pb2.MessageTemplate:
    return channel_pb2.MessageTemplate(
        template_name=name,
        language=language,
        category="UTILITY",
        status=status,
        provider_template_id=f"id-{name}-{language}",
        components=[
            channel_pb2.MessageTemplateComponent(
                type=content_pb2.TEMPLATE_COMPONENT_TYPE_BODY,
                text="Hello " + " ".join(f"{{{{{i + 1}}}}}" for i in range(body_params)),
                parameter_count=body_params,
            ),
            channel_pb2.MessageTemplateComponent(
                type=content_pb2.TEMPLATE_COMPONENT_TYPE_BUTTON,
                button_sub_type="quick_reply",
                button_text="Stop",
            ),
        ],
    )


class ScriptedFakeAdapter(FakeAdapter):
    """The fake adapter with the provider's templates and CheckChannel verdict set by tests,
    and a declared provider rate limit."""

    def __init__(self, channel_type: str, content_kinds: str = "") -> None:
        super().__init__(
            {"LINKTOR_FAKE_CHANNEL_TYPE": channel_type, "LINKTOR_FAKE_CONTENT_KINDS": content_kinds}
        )
        self.templates: list[channel_pb2.MessageTemplate] = []
        self.check = adapter_pb2.CheckChannelResponse(ok=True, message="the provider said hello")
        self.seen: list[adapter_pb2.ChannelConfig] = []
        # Added to a valid configuration, as an adapter fills in defaults.
        self.normalize: dict[str, Any] = {}
        self.broken = False

    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        declared = super().capabilities()
        declared.capabilities.default_rate_limit.per_second = 80
        declared.capabilities.max_rate_limit.per_second = 1000
        return declared

    async def validate_config(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ValidateConfigResponse:
        self.seen.append(channel)
        if self.broken:
            raise RuntimeError("the adapter has a bug")  # a gRPC error for the core
        reply = await super().validate_config(channel)
        if not reply.violations:
            reply.normalized_config.update(self.normalize)
        return reply

    async def check_channel(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.CheckChannelResponse:
        self.seen.append(channel)
        return self.check

    async def list_templates(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ListTemplatesResponse:
        self.seen.append(channel)
        return adapter_pb2.ListTemplatesResponse(templates=self.templates)


@dataclass(frozen=True)
class InProcessAdapter:
    """An adapter servicer on a loopback grpc.aio server: an AdapterHandle."""

    adapter: ScriptedFakeAdapter
    stub: adapter_pb2_grpc.ChannelAdapterAsyncStub
    capabilities: adapter_pb2.GetCapabilitiesResponse


@dataclass
class FakeAdapters:
    """AdapterProvider over in-process adapters by channel type; ``down`` types answer
    Unavailable the way the plugin host does while an adapter restarts."""

    by_type: dict[int, InProcessAdapter]
    down: set[int] = field(default_factory=set)
    acquired: list[tuple[int, str]] = field(default_factory=list)

    async def acquire(self, channel_type: int, *, address: str = "") -> InProcessAdapter:
        self.acquired.append((channel_type, address))
        if channel_type in self.down or channel_type not in self.by_type:
            raise Unavailable(f"the adapter of type {channel_type} is restarting")
        return self.by_type[channel_type]

    async def close(self) -> None:
        return None


@asynccontextmanager
async def serve_adapters(**types: str) -> AsyncIterator[FakeAdapters]:
    """One in-process fake adapter per ``{fake channel type: content kinds}`` (kinds
    comma-separated, empty for all), e.g. ``whatsapp=""``."""
    async with AsyncExitStack() as stack:
        served: dict[int, InProcessAdapter] = {}
        for channel_type, kinds in types.items():
            adapter = ScriptedFakeAdapter(channel_type, kinds)
            server = grpc.aio.server()
            adapter_pb2_grpc.add_ChannelAdapterServicer_to_server(adapter, server)
            target = f"127.0.0.1:{free_port()}"
            server.add_insecure_port(target)
            await server.start()
            stack.push_async_callback(server.stop, None)
            channel = grpc.aio.insecure_channel(target)
            stack.push_async_callback(channel.close, None)
            declared = adapter.capabilities()
            served[declared.channel_type] = InProcessAdapter(
                adapter, adapter_pb2_grpc.ChannelAdapterStub(channel), declared
            )
        yield FakeAdapters(served)


@dataclass
class ChannelServer:
    engine: AsyncEngine
    ids: IdentityServer
    channels: ChannelServices
    adapters: FakeAdapters
    stub: channel_pb2_grpc.ChannelServiceAsyncStub
    box: AesGcmSecretBox

    def adapter(self, channel_type: int = WHATSAPP) -> ScriptedFakeAdapter:
        return self.adapters.by_type[channel_type].adapter


@asynccontextmanager
async def start_channel_server(
    engine: AsyncEngine,
    settings: Settings,
    limiter: RateLimiter,
    *,
    provider: AdapterProvider | None = None,
) -> AsyncIterator[ChannelServer]:
    """The identity server plus ChannelService, with in-process fake WhatsApp and web chat
    adapters, or the adapters of ``provider`` (a real PluginHost) when given."""
    box = AesGcmSecretBox([SECRETS_KEY])
    built: list[ChannelServices] = []

    def channel_services(identity: IdentityServices) -> list[Any]:
        services = build_channels(
            settings, engine, provider or adapters, identity.plans, SystemClock(), box=box
        )
        built.append(services)
        return channel_registrations(services)

    async with (
        serve_adapters(whatsapp="", webchat="text,image") as adapters,
        start_identity_server(engine, settings, limiter, more_services=channel_services) as ids,
    ):
        yield ChannelServer(
            engine, ids, built[0], adapters, channel_pb2_grpc.ChannelServiceStub(ids.channel), box
        )
