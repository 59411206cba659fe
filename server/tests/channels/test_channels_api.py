"""ChannelService through the real gRPC server on both backends: create/get/list/update/
delete, validation by the adapter, masks and etags, enable/disable/test, plan limits,
idempotency, permissions."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.protobuf import field_mask_pb2, struct_pb2
from lktest.channels import WEBCHAT, WHATSAPP, ChannelServer
from lktest.identity import PASSWORD, Tenant, bearer, fails
from sqlalchemy import func, select

from linktor.adapter.v1 import adapter_pb2
from linktor.server.channels.adapters.tables import channels as channels_table
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.v1 import channel_pb2, common_pb2, user_pb2

from .conftest import PUBLIC_URL

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def whatsapp(display_name: str = "Support line", **fields: Any) -> channel_pb2.Channel:
    fields.setdefault("secrets", {"webhook_secret": "whsec-abcdef"})
    if "config" not in fields:
        fields["config"] = struct_pb2.Struct()
        fields["config"].update({"latency_ms": 0})
    return channel_pb2.Channel(display_name=display_name, type=WHATSAPP, **fields)


async def create(
    chs: ChannelServer,
    tenant: Tenant,
    channel: channel_pb2.Channel | None = None,
    **request: Any,
) -> channel_pb2.Channel:
    return await chs.stub.CreateChannel(
        channel_pb2.CreateChannelRequest(
            parent=tenant.name, channel=channel or whatsapp(), **request
        ),
        metadata=bearer(tenant.api_key),
    )


async def invalid(call: Any) -> dict[str, str]:
    """The field violations of a call expected to fail with INVALID_ARGUMENT."""
    failure = await fails(call)
    assert failure.code == INVALID, failure.message
    return failure.violations


async def test_create_get_list_update_delete(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant(plan="pro")
    md = bearer(tenant.api_key)
    made = await create(chs, tenant, whatsapp(allowed_origins=["https://Shop.Example.com:443/"]))
    assert made.name.startswith(f"{tenant.name}/channels/")
    assert made.state == channel_pb2.CHANNEL_STATE_ACTIVE
    assert made.type == WHATSAPP
    assert list(made.secret_keys) == ["webhook_secret"]
    assert not made.secrets
    assert made.webhook_url.startswith(f"{PUBLIC_URL}/webhooks/")
    assert len(made.webhook_url.rsplit("/", 1)[1]) >= 43  # 256 bits, URL-safe base64
    assert list(made.allowed_origins) == ["https://shop.example.com"]
    assert made.capabilities.default_rate_limit.per_second == 80  # from the adapter
    assert made.capabilities.content_kinds
    assert made.etag and made.create_time.seconds and made.update_time.seconds
    # The adapter validated it with the secrets and the channel's own name and webhook URL.
    seen = chs.adapter().seen[-1]
    assert seen.channel == made.name and seen.webhook_url == made.webhook_url
    assert dict(seen.secrets) == {"webhook_secret": "whsec-abcdef"}

    got = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=made.name), metadata=md)
    assert got == made

    second = await create(
        chs,
        tenant,
        channel_pb2.Channel(display_name="Chat", type=WEBCHAT, secrets={"webhook_secret": "x"}),
    )
    listed = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name), metadata=md
    )
    assert [c.name for c in listed.channels] == [made.name, second.name]
    only_chat = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name, type=WEBCHAT), metadata=md
    )
    assert [c.name for c in only_chat.channels] == [second.name]
    page = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name, page_size=1), metadata=md
    )
    assert [c.name for c in page.channels] == [made.name] and page.next_page_token
    rest = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(
            parent=tenant.name, page_size=1, page_token=page.next_page_token
        ),
        metadata=md,
    )
    assert [c.name for c in rest.channels] == [second.name] and not rest.next_page_token

    renamed = await chs.stub.UpdateChannel(
        channel_pb2.UpdateChannelRequest(
            channel=channel_pb2.Channel(name=made.name, display_name="Sales line", etag=made.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=md,
    )
    assert renamed.display_name == "Sales line" and renamed.etag != made.etag
    assert renamed.webhook_url == made.webhook_url
    calls = len(chs.adapter().seen)
    assert calls  # a rename needs no adapter validation:
    await chs.stub.UpdateChannel(
        channel_pb2.UpdateChannelRequest(
            channel=channel_pb2.Channel(name=made.name, display_name="Again")
        ),
        metadata=md,
    )
    assert len(chs.adapter().seen) == calls

    failure = await fails(
        chs.stub.DeleteChannel(
            channel_pb2.DeleteChannelRequest(name=made.name, etag=made.etag), metadata=md
        )
    )
    assert failure.code == grpc.StatusCode.ABORTED
    await chs.stub.DeleteChannel(channel_pb2.DeleteChannelRequest(name=made.name), metadata=md)
    gone = await fails(
        chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=made.name), metadata=md)
    )
    assert gone.code == grpc.StatusCode.NOT_FOUND
    listed = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name), metadata=md
    )
    assert [c.name for c in listed.channels] == [second.name]
    # The row stays (conversations and messages keep pointing at it), marked deleted.
    async with SqlUnitOfWork(chs.engine, privileged=True) as uow:
        row = (
            await uow.connection.execute(
                select(channels_table.c.delete_time).where(
                    channels_table.c.id == made.name.rsplit("/", 1)[1]
                )
            )
        ).one()
    assert row.delete_time is not None


async def test_create_reports_every_invalid_field(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    found = await invalid(
        create(
            chs,
            tenant,
            channel_pb2.Channel(
                allowed_origins=["http://shop.example.com", "https://ok.example.com/path"],
                adapter_address="nonsense",
            ),
        )
    )
    assert set(found) == {
        "channel.type",
        "channel.display_name",
        "channel.allowed_origins[0]",
        "channel.allowed_origins[1]",
        "channel.adapter_address",
    }
    assert "https" in found["channel.allowed_origins[0]"]
    found = await invalid(
        create(
            chs,
            tenant,
            whatsapp(rate_limit=common_pb2.RateLimit(per_second=-1), secrets={"Bad Key": "x"}),
        )
    )
    assert set(found) == {"channel.rate_limit.per_second", "channel.secrets.Bad Key"}


async def test_the_adapter_validates_the_configuration(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    config = struct_pb2.Struct()
    config.update({"failure_rate": 7, "bogus": True})
    found = await invalid(create(chs, tenant, whatsapp(config=config, secrets={})))
    # The fake adapter's violations, named under the request's `channel` field.
    assert set(found) == {
        "channel.config.failure_rate",
        "channel.config.bogus",
        "channel.secrets.webhook_secret",
    }
    failure = await fails(create(chs, tenant, whatsapp(config=config, secrets={})))
    assert "adapter refused the configuration" in failure.message
    # Above the provider's ceiling (the adapter declares 1000/s).
    found = await invalid(
        create(chs, tenant, whatsapp(rate_limit=common_pb2.RateLimit(per_second=5000)))
    )
    assert "1000" in found["channel.rate_limit.per_second"]
    listed = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name), metadata=bearer(tenant.api_key)
    )
    assert not listed.channels


async def test_the_adapters_normalized_configuration_is_stored(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    chs.adapter().normalize = {"latency_ms": 5}
    made = await create(chs, tenant)
    assert made.config["latency_ms"] == 5
    got = await chs.stub.GetChannel(
        channel_pb2.GetChannelRequest(name=made.name), metadata=bearer(tenant.api_key)
    )
    assert got.config["latency_ms"] == 5


async def test_validate_only_stores_nothing(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    checked = await create(chs, tenant, validate_only=True)
    assert checked.display_name == "Support line" and not checked.secrets
    listed = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name), metadata=bearer(tenant.api_key)
    )
    assert not listed.channels
    assert await invalid(create(chs, tenant, whatsapp(secrets={}), validate_only=True))


async def test_update_masks_and_etags(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(chs, tenant)

    def update(channel: channel_pb2.Channel, *paths: str) -> Any:
        return chs.stub.UpdateChannel(
            channel_pb2.UpdateChannelRequest(
                channel=channel, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
            ),
            metadata=md,
        )

    stale = await fails(
        update(channel_pb2.Channel(name=made.name, display_name="x", etag='W/"99"'), "display_name")
    )
    assert stale.code == grpc.StatusCode.ABORTED
    for path, field in (
        ("type", "update_mask"),
        ("state", "update_mask"),
        ("nonsense", "update_mask"),
        ("rate_limit.nope", "update_mask"),
    ):
        found = await invalid(update(channel_pb2.Channel(name=made.name), path))
        assert list(found) == [field], path
    found = await invalid(
        update(channel_pb2.Channel(name=made.name, allowed_origins=["ftp://x"]), "allowed_origins")
    )
    assert list(found) == ["channel.allowed_origins[0]"]

    # Per-key config paths, half a rate limit, origins.
    config = struct_pb2.Struct()
    config.update({"latency_ms": 25})
    changed = await update(
        channel_pb2.Channel(
            name=made.name,
            config=config,
            rate_limit=common_pb2.RateLimit(per_second=200, burst=999),
            allowed_origins=["http://localhost:3000"],
        ),
        "config.latency_ms",
        "rate_limit.per_second",
        "allowed_origins",
    )
    assert changed.config["latency_ms"] == 25
    assert changed.rate_limit.per_second == 200 and changed.rate_limit.burst == 0
    assert list(changed.allowed_origins) == ["http://localhost:3000"]
    removed = await update(channel_pb2.Channel(name=made.name), "config.latency_ms")
    assert "latency_ms" not in removed.config

    # `*` replaces every updatable field: a channel without a display name is refused.
    found = await invalid(update(channel_pb2.Channel(name=made.name), "*"))
    assert "channel.display_name" in found
    everything = await update(
        channel_pb2.Channel(
            name=made.name, display_name="All", config=config, secrets={"verify_token": "vt"}
        ),
        "*",
    )
    assert everything.display_name == "All"
    assert list(everything.secret_keys) == ["verify_token", "webhook_secret"]
    assert list(everything.allowed_origins) == [] and everything.rate_limit.per_second == 0


async def test_enable_disable_and_test(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(chs, tenant)
    disabled = await chs.stub.DisableChannel(
        channel_pb2.DisableChannelRequest(name=made.name), metadata=md
    )
    assert disabled.state == channel_pb2.CHANNEL_STATE_DISABLED
    again = await chs.stub.DisableChannel(
        channel_pb2.DisableChannelRequest(name=made.name), metadata=md
    )
    assert again.etag == disabled.etag  # nothing changed
    enabled = await chs.stub.EnableChannel(
        channel_pb2.EnableChannelRequest(name=made.name), metadata=md
    )
    assert enabled.state == channel_pb2.CHANNEL_STATE_ACTIVE

    tested = await chs.stub.TestChannel(channel_pb2.TestChannelRequest(name=made.name), metadata=md)
    assert tested.ok and tested.message == "the provider said hello"
    assert dict(chs.adapter().seen[-1].secrets) == {"webhook_secret": "whsec-abcdef"}

    chs.adapter().check = adapter_pb2.CheckChannelResponse(ok=False, message="token expired")
    tested = await chs.stub.TestChannel(channel_pb2.TestChannelRequest(name=made.name), metadata=md)
    assert not tested.ok
    failing = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=made.name), metadata=md)
    assert (
        failing.state == channel_pb2.CHANNEL_STATE_ERROR and failing.state_reason == "token expired"
    )
    # New secrets the adapter accepts give the channel a new chance.
    fixed = await chs.stub.UpdateChannel(
        channel_pb2.UpdateChannelRequest(
            channel=channel_pb2.Channel(name=made.name, secrets={"webhook_secret": "rotated"}),
            update_mask=field_mask_pb2.FieldMask(paths=["secrets"]),
        ),
        metadata=md,
    )
    assert fixed.state == channel_pb2.CHANNEL_STATE_ACTIVE and not fixed.state_reason


async def test_an_unavailable_adapter(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(chs, tenant)
    chs.adapter().broken = True  # the adapter answers with a gRPC error
    failure = await fails(create(chs, tenant))
    assert failure.code == grpc.StatusCode.UNAVAILABLE and failure.reason == "CHANNEL_UNAVAILABLE"
    chs.adapter().broken = False
    chs.adapters.down.add(WHATSAPP)
    failure = await fails(create(chs, tenant))
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    failure = await fails(
        chs.stub.TestChannel(channel_pb2.TestChannelRequest(name=made.name), metadata=md)
    )
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    # Reading does not depend on the adapter: the last capabilities seen are shown.
    got = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=made.name), metadata=md)
    assert got.capabilities.default_rate_limit.per_second == 80


async def test_the_plans_channel_limit(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant(plan="free")  # 2 channels
    md = bearer(tenant.api_key)
    first = await create(chs, tenant)
    await create(chs, tenant)
    failure = await fails(create(chs, tenant))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reason == "PLAN_LIMIT_EXCEEDED" and failure.metadata["limit"] == "channels"
    assert (await fails(create(chs, tenant, validate_only=True))).reason == "PLAN_LIMIT_EXCEEDED"
    await chs.stub.DeleteChannel(channel_pb2.DeleteChannelRequest(name=first.name), metadata=md)
    await create(chs, tenant)  # a deleted channel does not count


async def test_the_plan_limit_holds_under_concurrent_creates(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant(plan="free")
    results = await asyncio.gather(*(create(chs, tenant) for _ in range(6)), return_exceptions=True)
    assert sum(isinstance(r, channel_pb2.Channel) for r in results) == 2
    listed = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name), metadata=bearer(tenant.api_key)
    )
    assert len(listed.channels) == 2


async def test_request_id_makes_create_idempotent(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant(plan="pro")
    first = await create(chs, tenant, request_id="req-1")
    retry = await create(chs, tenant, request_id="req-1")
    assert retry.name == first.name
    # The same body with another secret value is the same request (values are not hashed) ...
    assert (
        await create(chs, tenant, whatsapp(secrets={"webhook_secret": "other"}), request_id="req-1")
    ).name == first.name
    # ... another body is refused.
    reused = await fails(create(chs, tenant, whatsapp("Another name"), request_id="req-1"))
    assert reused.code == grpc.StatusCode.ALREADY_EXISTS and reused.reason == "REQUEST_ID_REUSED"
    # Concurrent first calls create one channel.
    results = await asyncio.gather(
        *(create(chs, tenant, whatsapp("Burst"), request_id="req-2") for _ in range(8))
    )
    assert len({r.name for r in results}) == 1
    listed = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name), metadata=bearer(tenant.api_key)
    )
    assert len(listed.channels) == 2


async def test_roles_and_scopes(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    owner = bearer((await chs.ids.login(tenant.owner_email)).tokens.access_token)
    viewer_email = f"viewer-{tenant.id}@example.com"
    await chs.ids.stubs.users.CreateUser(
        user_pb2.CreateUserRequest(
            parent=tenant.name,
            user=user_pb2.User(email=viewer_email, role=user_pb2.ROLE_VIEWER, password=PASSWORD),
        ),
        metadata=owner,
    )
    viewer = bearer((await chs.ids.login(viewer_email)).tokens.access_token)
    made = await chs.stub.CreateChannel(
        channel_pb2.CreateChannelRequest(parent=tenant.name, channel=whatsapp()), metadata=owner
    )
    got = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=made.name), metadata=viewer)
    assert got.name == made.name
    denied = await fails(
        chs.stub.CreateChannel(
            channel_pb2.CreateChannelRequest(parent=tenant.name, channel=whatsapp()),
            metadata=viewer,
        )
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    denied = await fails(
        chs.stub.DisableChannel(channel_pb2.DisableChannelRequest(name=made.name), metadata=viewer)
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED


async def test_another_tenants_channels_are_not_found(chs: ChannelServer) -> None:
    a, b = await chs.ids.tenant(), await chs.ids.tenant()
    theirs = await create(chs, b)
    mine = bearer(a.api_key)
    # B's channel by its own name, and B's channel id under A's name.
    names = [theirs.name, theirs.name.replace(b.name, a.name)]
    for name in names:
        calls = [
            chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=name), metadata=mine),
            chs.stub.UpdateChannel(
                channel_pb2.UpdateChannelRequest(
                    channel=channel_pb2.Channel(name=name, display_name="pwned")
                ),
                metadata=mine,
            ),
            chs.stub.DeleteChannel(channel_pb2.DeleteChannelRequest(name=name), metadata=mine),
            chs.stub.EnableChannel(channel_pb2.EnableChannelRequest(name=name), metadata=mine),
            chs.stub.DisableChannel(channel_pb2.DisableChannelRequest(name=name), metadata=mine),
            chs.stub.TestChannel(channel_pb2.TestChannelRequest(name=name), metadata=mine),
            chs.stub.ListMessageTemplates(
                channel_pb2.ListMessageTemplatesRequest(parent=name), metadata=mine
            ),
            chs.stub.SyncMessageTemplates(
                channel_pb2.SyncMessageTemplatesRequest(parent=name), metadata=mine
            ),
        ]
        for call in calls:
            assert (await fails(call)).code == grpc.StatusCode.NOT_FOUND
    for call in (
        chs.stub.ListChannels(channel_pb2.ListChannelsRequest(parent=b.name), metadata=mine),
        chs.stub.CreateChannel(
            channel_pb2.CreateChannelRequest(parent=b.name, channel=whatsapp()), metadata=mine
        ),
    ):
        assert (await fails(call)).code == grpc.StatusCode.NOT_FOUND
    unchanged = await chs.stub.GetChannel(
        channel_pb2.GetChannelRequest(name=theirs.name), metadata=bearer(b.api_key)
    )
    assert unchanged == theirs
    async with SqlUnitOfWork(chs.engine, privileged=True) as uow:
        count = (
            await uow.connection.execute(
                select(func.count())
                .select_from(channels_table)
                .where(channels_table.c.tenant_id == b.id)
            )
        ).scalar_one()
    assert count == 1
