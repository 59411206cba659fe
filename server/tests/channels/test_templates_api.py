"""Message templates: synced from the provider through the adapter, stored, paged."""

from __future__ import annotations

from typing import Any

import grpc
from lktest.channels import WEBCHAT, ChannelServer, template
from lktest.identity import bearer, fails

from linktor.v1 import channel_pb2, content_pb2

from .test_channels_api import create


async def test_sync_then_page_through_templates(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(chs, tenant)
    provider = chs.adapter()
    provider.templates = [
        template("welcome", "pt_BR"),
        template("welcome", "en_US", body_params=2),
        template("order_update"),
        template("alert", status="PENDING"),
        template("welcome", "en_US"),  # listed twice by the provider: the first counts
        channel_pb2.MessageTemplate(language="en"),  # no name: not stored
    ]

    def sync() -> Any:
        return chs.stub.SyncMessageTemplates(
            channel_pb2.SyncMessageTemplatesRequest(parent=made.name), metadata=md
        )

    synced = await sync()
    assert (synced.template_count, synced.changed_count) == (6, 4)
    assert dict(chs.adapter().seen[-1].secrets) == {"webhook_secret": "whsec-abcdef"}

    pages: list[channel_pb2.MessageTemplate] = []
    token = ""
    while True:
        page = await chs.stub.ListMessageTemplates(
            channel_pb2.ListMessageTemplatesRequest(
                parent=made.name, page_size=3, page_token=token
            ),
            metadata=md,
        )
        pages += page.message_templates
        token = page.next_page_token
        if not token:
            break
    assert [(t.template_name, t.language) for t in pages] == [
        ("alert", "en_US"),
        ("order_update", "en_US"),
        ("welcome", "en_US"),
        ("welcome", "pt_BR"),
    ]
    welcome = pages[2]
    assert welcome.name.startswith(f"{made.name}/messageTemplates/")
    assert welcome.status == "APPROVED" and welcome.category == "UTILITY"
    assert welcome.provider_template_id == "id-welcome-en_US"
    body, button = welcome.components
    assert body.type == content_pb2.TEMPLATE_COMPONENT_TYPE_BODY and body.parameter_count == 2
    assert button.button_sub_type == "quick_reply" and button.button_text == "Stop"
    assert welcome.sync_time.seconds

    # Nothing changed at the provider: nothing changes here.
    assert (await sync()).changed_count == 0
    # One approved, one gone, one new.
    provider.templates = [
        template("alert"),
        template("welcome", "en_US", body_params=2),
        template("welcome", "pt_BR"),
        template("shipping"),
    ]
    synced = await sync()
    assert (synced.template_count, synced.changed_count) == (4, 3)
    after = await chs.stub.ListMessageTemplates(
        channel_pb2.ListMessageTemplatesRequest(parent=made.name), metadata=md
    )
    by_key = {(t.template_name, t.language): t for t in after.message_templates}
    assert set(by_key) == {
        ("alert", "en_US"),
        ("shipping", "en_US"),
        ("welcome", "en_US"),
        ("welcome", "pt_BR"),
    }
    assert by_key[("alert", "en_US")].status == "APPROVED"
    assert by_key[("welcome", "en_US")].name == welcome.name  # ids survive syncs

    # A page token is bound to its channel.
    other = await create(chs, tenant)
    first = await chs.stub.ListMessageTemplates(
        channel_pb2.ListMessageTemplatesRequest(parent=made.name, page_size=1), metadata=md
    )
    misuse = await fails(
        chs.stub.ListMessageTemplates(
            channel_pb2.ListMessageTemplatesRequest(
                parent=other.name, page_token=first.next_page_token
            ),
            metadata=md,
        )
    )
    assert misuse.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_channels_without_templates(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    chat = await create(
        chs,
        tenant,
        channel_pb2.Channel(display_name="Chat", type=WEBCHAT, secrets={"webhook_secret": "x"}),
    )
    # The fake web chat adapter declares no TEMPLATE content kind: nothing to sync.
    failure = await fails(
        chs.stub.SyncMessageTemplates(
            channel_pb2.SyncMessageTemplatesRequest(parent=chat.name), metadata=md
        )
    )
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    listed = await chs.stub.ListMessageTemplates(
        channel_pb2.ListMessageTemplatesRequest(parent=chat.name), metadata=md
    )
    assert not listed.message_templates
