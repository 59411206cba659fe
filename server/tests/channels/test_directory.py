"""ChannelDirectory (what messaging and the webhook ingress use per message) and channel
state following adapter health, on both backends."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import field_mask_pb2
from lktest.channels import WEBCHAT, WHATSAPP, ChannelServer, template
from lktest.identity import bearer
from sqlalchemy import update

from linktor.server.channels.adapters.sql import SqlChannelStore, SqlChannelUnitOfWork
from linktor.server.channels.adapters.tables import channels as channels_table
from linktor.server.channels.app.capabilities import AdapterCapabilities
from linktor.server.channels.app.channel_secrets import ChannelSecrets
from linktor.server.channels.app.directory import ChannelDirectory
from linktor.server.channels.app.webhook_urls import WebhookUrls
from linktor.server.channels.domain.channel import ChannelState, RateLimit
from linktor.server.channels.domain.template import ComponentKind
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.plugins.state import AdapterState, AdapterStatus
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import Unavailable
from linktor.v1 import channel_pb2, common_pb2

from .conftest import PUBLIC_URL
from .test_channels_api import create, whatsapp


def ids_of(name: str) -> tuple[str, str]:
    parts = name.split("/")
    return parts[1], parts[3]


async def test_runtime_view_of_a_channel(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(chs, tenant, whatsapp(allowed_origins=["https://shop.example.com"]))
    chs.adapter().templates = [template("welcome", body_params=3)]
    await chs.stub.SyncMessageTemplates(
        channel_pb2.SyncMessageTemplatesRequest(parent=made.name), metadata=md
    )

    runtime = await chs.channels.directory.get(*ids_of(made.name))
    assert runtime is not None
    assert (runtime.tenant_id, runtime.name) == (tenant.id, made.name)
    assert runtime.type is ChannelType.WHATSAPP and runtime.type_value == WHATSAPP
    assert runtime.state is ChannelState.ACTIVE and runtime.can_deliver and runtime.accepts_webhooks
    assert runtime.adapter_address == ""
    assert runtime.rate_limit == RateLimit(80, 0)  # the adapter's default
    assert runtime.rate_limit.effective_burst == 80
    assert runtime.capabilities.max_rate_limit.per_second == 1000
    assert runtime.allowed_origins == ("https://shop.example.com",)
    # The ChannelConfig for adapter calls: decrypted secrets, config, webhook URL.
    assert runtime.config.channel == made.name and runtime.config.type == WHATSAPP
    assert dict(runtime.config.secrets) == {"webhook_secret": "whsec-abcdef"}
    assert runtime.config.webhook_url == made.webhook_url
    assert runtime.config.config["latency_ms"] == 0
    welcome = runtime.template("welcome", "en_US")
    assert welcome is not None and welcome.component(ComponentKind.BODY).parameter_count == 3  # type: ignore[union-attr]
    assert runtime.template("welcome", "fr") is None
    assert "whsec" not in repr(runtime)

    # Its own rate limit wins; the change is seen at once on this process.
    await chs.stub.UpdateChannel(
        channel_pb2.UpdateChannelRequest(
            channel=channel_pb2.Channel(
                name=made.name, rate_limit=common_pb2.RateLimit(per_second=500, burst=50)
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["rate_limit"]),
        ),
        metadata=md,
    )
    runtime = await chs.channels.directory.get(*ids_of(made.name))
    assert runtime is not None and runtime.rate_limit == RateLimit(500, 50)

    # Another tenant's id pair finds nothing.
    other = await chs.ids.tenant()
    assert await chs.channels.directory.get(other.id, ids_of(made.name)[1]) is None


async def test_lookup_by_webhook_token(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(chs, tenant)
    token = made.webhook_url.removeprefix(f"{PUBLIC_URL}/webhooks/")
    directory = chs.channels.directory

    found = await directory.by_webhook_token(token)
    assert found is not None and found.name == made.name
    assert await directory.by_webhook_token("not-a-token") is None
    assert await directory.by_webhook_token(token[:-1]) is None

    await chs.stub.DisableChannel(channel_pb2.DisableChannelRequest(name=made.name), metadata=md)
    found = await directory.by_webhook_token(token)
    assert found is not None and not found.accepts_webhooks and not found.can_deliver

    await chs.stub.DeleteChannel(channel_pb2.DeleteChannelRequest(name=made.name), metadata=md)
    assert await directory.by_webhook_token(token) is None
    assert await directory.get(*ids_of(made.name)) is None


async def test_staleness_is_bounded_by_the_ttl(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    made = await create(chs, tenant)
    now = [1000.0]
    directory = ChannelDirectory(
        SqlChannelStore(chs.engine),
        AdapterCapabilities(chs.adapters),
        ChannelSecrets(chs.box),
        WebhookUrls(PUBLIC_URL),
        ttl=5.0,
        clock=lambda: now[0],
    )
    assert (await directory.get(*ids_of(made.name))).state is ChannelState.ACTIVE  # type: ignore[union-attr]
    # Another replica disables it (written straight to the database here).
    async with SqlUnitOfWork(chs.engine, privileged=True) as uow:
        await uow.connection.execute(
            update(channels_table)
            .where(channels_table.c.id == ids_of(made.name)[1])
            .values(state="DISABLED")
        )
        await uow.commit()
    now[0] += 4.9
    assert (await directory.get(*ids_of(made.name))).state is ChannelState.ACTIVE  # type: ignore[union-attr]
    now[0] += 0.2
    assert (await directory.get(*ids_of(made.name))).state is ChannelState.DISABLED  # type: ignore[union-attr]


class CountingStore(SqlChannelStore):
    """Counts the units of work the directory opens (one per load)."""

    loads = 0

    def scoped(self, tenant_id: str) -> SqlChannelUnitOfWork:
        self.loads += 1
        return super().scoped(tenant_id)

    def privileged(self) -> SqlChannelUnitOfWork:
        self.loads += 1
        return super().privileged()


async def test_callers_missing_at_once_share_one_load(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    made = await create(chs, tenant)
    store = CountingStore(chs.engine)
    directory = ChannelDirectory(
        store,
        AdapterCapabilities(chs.adapters),
        ChannelSecrets(chs.box),
        WebhookUrls(PUBLIC_URL),
    )
    token = made.webhook_url.rsplit("/", 1)[1]
    by_token = await asyncio.gather(*(directory.by_webhook_token(token) for _ in range(20)))
    assert store.loads == 1 and {r.name for r in by_token if r} == {made.name}
    directory.forget_all()
    by_id = await asyncio.gather(*(directory.get(*ids_of(made.name)) for _ in range(20)))
    assert store.loads == 2 and {r.name for r in by_id if r} == {made.name}


async def test_capabilities_of_an_adapter_never_reached(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    made = await create(chs, tenant)
    fresh = ChannelDirectory(
        SqlChannelStore(chs.engine),
        AdapterCapabilities(chs.adapters),
        ChannelSecrets(chs.box),
        WebhookUrls(PUBLIC_URL),
    )
    chs.adapters.down.add(WHATSAPP)
    with pytest.raises(Unavailable):
        await fresh.get(*ids_of(made.name))
    # The process's own directory saw the adapter before: it keeps using what it declared.
    chs.channels.directory.forget_all()
    runtime = await chs.channels.directory.get(*ids_of(made.name))
    assert runtime is not None and runtime.capabilities.default_rate_limit.per_second == 80


async def test_channel_state_follows_adapter_health(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant(plan="pro")
    md = bearer(tenant.api_key)
    active = await create(chs, tenant)
    disabled = await create(chs, tenant)
    await chs.stub.DisableChannel(
        channel_pb2.DisableChannelRequest(name=disabled.name), metadata=md
    )
    chat = await create(
        chs,
        tenant,
        channel_pb2.Channel(display_name="Chat", type=WEBCHAT, secrets={"webhook_secret": "x"}),
    )
    health = chs.channels.health

    async def state(name: str) -> tuple[int, str]:
        got = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=name), metadata=md)
        return got.state, got.state_reason

    await chs.channels.directory.get(*ids_of(active.name))  # cached: must be dropped below
    await health.adapter_changed(
        AdapterStatus(
            "WHATSAPP", WHATSAPP, "", AdapterState.RESTARTING, "exited with status 86", restarts=1
        )
    )
    assert await state(active.name) == (
        channel_pb2.CHANNEL_STATE_DEGRADED,
        "the WHATSAPP adapter is restarting: exited with status 86",
    )
    assert (await state(disabled.name))[0] == channel_pb2.CHANNEL_STATE_DISABLED
    assert (await state(chat.name))[0] == channel_pb2.CHANNEL_STATE_ACTIVE
    runtime = await chs.channels.directory.get(*ids_of(active.name))
    assert (
        runtime is not None and runtime.state is ChannelState.DEGRADED and not runtime.can_deliver
    )

    await health.adapter_changed(AdapterStatus("WHATSAPP", WHATSAPP, "", AdapterState.STARTING))
    assert (await state(active.name))[0] == channel_pb2.CHANNEL_STATE_DEGRADED
    await health.adapter_changed(AdapterStatus("WHATSAPP", WHATSAPP, "", AdapterState.READY))
    assert await state(active.name) == (channel_pb2.CHANNEL_STATE_ACTIVE, "")
    assert (await state(disabled.name))[0] == channel_pb2.CHANNEL_STATE_DISABLED
    # The host's own shutdown says nothing about the channels.
    await health.adapter_changed(AdapterStatus("WHATSAPP", WHATSAPP, "", AdapterState.STOPPED))
    assert (await state(active.name))[0] == channel_pb2.CHANNEL_STATE_ACTIVE


async def test_remote_adapter_health_is_matched_by_address(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant(plan="pro")
    md = bearer(tenant.api_key)
    remote = await create(chs, tenant, whatsapp(adapter_address="adapters.internal:7000"))
    builtin = await create(chs, tenant)
    assert ("adapters.internal:7000") in [address for _t, address in chs.adapters.acquired]
    await chs.channels.health.adapter_changed(
        AdapterStatus(
            "adapters.internal:7000",
            0,
            "adapters.internal:7000",
            AdapterState.UNREACHABLE,
            "UNAVAILABLE: connection refused",
        )
    )
    got = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=remote.name), metadata=md)
    assert (
        got.state == channel_pb2.CHANNEL_STATE_DEGRADED and "connection refused" in got.state_reason
    )
    got = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=builtin.name), metadata=md)
    assert got.state == channel_pb2.CHANNEL_STATE_ACTIVE
