"""Send through the real handshake against the fake Graph API: every content type."""

from __future__ import annotations

from typing import Any

import pytest
from wa_support import (
    CUSTOMER,
    ORDER_UPDATE,
    RPC_TIMEOUT,
    channel_for,
    content,
    order_update_definition,
    send,
)
from whatsapp_fake_graph import FakeGraphApi, template

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.launcher import PluginProcess
from linktor.v1 import content_pb2, message_pb2

pytestmark = pytest.mark.integration


async def sent_ok(
    adapter: PluginProcess,
    fake: FakeGraphApi,
    message: content_pb2.MessageContent,
    reply_to: str = "",
) -> dict[str, Any]:
    response = await send(adapter, fake, message, reply_to)
    assert not response.HasField("error"), response.error
    assert response.status == message_pb2.MESSAGE_STATUS_SENT
    assert response.provider_message_id == fake.sent[-1]["id"]
    request = fake.requests[-1]
    assert request.path == f"/v26.0/{fake.phone_number_id}/messages"
    assert request.headers["authorization"] == f"Bearer {fake.access_token}"
    return fake.sent[-1]


def uploaded(fake: FakeGraphApi, mime_type: str = "image/jpeg") -> str:
    return fake.add_media(b"\xff\xd8\xff" + b"0" * 64, mime_type)


async def test_text_with_preview_and_reply_context(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    body = await sent_ok(
        adapter,
        fake,
        content(text={"body": "Hi! https://linktor.io", "previewUrl": True}),
        "wamid.IN-1",
    )
    assert body["to"] == "16505551234"
    assert body["text"] == {"preview_url": True, "body": "Hi! https://linktor.io"}
    assert body["context"] == {"message_id": "wamid.IN-1"}
    assert body["biz_opaque_callback_data"] == "tenants/t/conversations/c/messages/m1"


@pytest.mark.parametrize(
    ("media_type", "mime", "wa_type", "extra"),
    [
        ("MEDIA_TYPE_IMAGE", "image/jpeg", "image", {"caption": "Your receipt"}),
        ("MEDIA_TYPE_VIDEO", "video/mp4", "video", {"caption": "How to"}),
        ("MEDIA_TYPE_AUDIO", "audio/mpeg", "audio", {}),
        ("MEDIA_TYPE_VOICE", "audio/ogg", "audio", {}),
        (
            "MEDIA_TYPE_DOCUMENT",
            "application/pdf",
            "document",
            {"caption": "Invoice", "filename": "invoice.pdf"},
        ),
        ("MEDIA_TYPE_STICKER", "image/webp", "sticker", {}),
    ],
)
async def test_media_by_uploaded_id(
    adapter: PluginProcess,
    fake: FakeGraphApi,
    media_type: str,
    mime: str,
    wa_type: str,
    extra: dict[str, str],
) -> None:
    media_id = uploaded(fake, mime)
    body = await sent_ok(
        adapter,
        fake,
        content(media={"type": media_type, "providerMediaId": media_id, "mimeType": mime, **extra}),
    )
    assert body["type"] == wa_type
    assert body[wa_type]["id"] == media_id
    for key, value in extra.items():
        assert body[wa_type][key] == value
    assert body[wa_type].get("voice", False) == (media_type == "MEDIA_TYPE_VOICE")


async def test_media_by_link(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    body = await sent_ok(
        adapter,
        fake,
        content(
            media={
                "type": "MEDIA_TYPE_IMAGE",
                "url": "https://cdn.example.com/p.png",
                "caption": "New!",
            }
        ),
    )
    assert body["image"] == {"link": "https://cdn.example.com/p.png", "caption": "New!"}


async def test_location_contacts_and_reaction(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    body = await sent_ok(
        adapter, fake, content(location={"latitude": 37.48, "longitude": -122.14, "name": "HQ"})
    )
    assert body["location"] == {"latitude": 37.48, "longitude": -122.14, "name": "HQ"}
    body = await sent_ok(
        adapter,
        fake,
        content(
            contacts={
                "contacts": [
                    {"formattedName": "Ana Lima", "phones": [{"number": "+5511999990000"}]}
                ]
            }
        ),
    )
    assert body["contacts"][0]["name"] == {"formatted_name": "Ana Lima", "first_name": "Ana Lima"}
    body = await sent_ok(
        adapter,
        fake,
        content(
            reaction={
                "message": "tenants/t/conversations/c/messages/m0",
                "emoji": "❤️",
                "providerMessageId": "wamid.IN-1",
            }
        ),
    )
    assert body["reaction"] == {"message_id": "wamid.IN-1", "emoji": "❤️"}


@pytest.mark.parametrize(
    ("interactive", "wa_type"),
    [
        (
            {
                "header": {"text": "Order 1234"},
                "body": "Confirm?",
                "footer": "Thanks",
                "buttons": {"buttons": [{"id": "y", "title": "Yes"}, {"id": "n", "title": "No"}]},
            },
            "button",
        ),
        (
            {
                "header": {
                    "media": {"type": "MEDIA_TYPE_IMAGE", "url": "https://cdn.example.com/p.png"}
                },
                "body": "Like it?",
                "buttons": {"buttons": [{"id": "y", "title": "Yes"}]},
            },
            "button",
        ),
        (
            {
                "body": "Choose",
                "list": {
                    "buttonText": "Menu",
                    "sections": [
                        {
                            "title": "A",
                            "rows": [{"id": "1", "title": "One", "description": "First"}],
                        },
                        {"title": "B", "rows": [{"id": "2", "title": "Two"}]},
                    ],
                },
            },
            "list",
        ),
        (
            {
                "body": "Track your parcel",
                "ctaUrl": {"displayText": "Track", "url": "https://t.example/1"},
            },
            "cta_url",
        ),
        (
            {
                "body": "Our best seller",
                "product": {"catalogId": "194836987003835", "productRetailerId": "sku-1"},
            },
            "product",
        ),
        (
            {
                "header": {"text": "Picks"},
                "body": "For you",
                "productList": {
                    "catalogId": "194836987003835",
                    "sections": [{"title": "Shoes", "productRetailerIds": ["a", "b"]}],
                },
            },
            "product_list",
        ),
    ],
)
async def test_interactive(
    adapter: PluginProcess, fake: FakeGraphApi, interactive: dict[str, Any], wa_type: str
) -> None:
    body = await sent_ok(adapter, fake, content(interactive=interactive))
    assert body["interactive"]["type"] == wa_type


async def test_template_with_every_parameter_kind(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    fake.templates.append(order_update_definition())
    body = await sent_ok(adapter, fake, content(template=ORDER_UPDATE))
    assert body["template"]["name"] == "order_update"
    assert [c["type"] for c in body["template"]["components"]] == [
        "header",
        "body",
        "button",
        "button",
        "button",
    ]


async def test_named_template_parameters(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    fake.templates.append(
        template("welcome", body="Olá {{first_name}}!", language="pt_BR", parameter_format="NAMED")
    )
    body = await sent_ok(
        adapter,
        fake,
        content(
            template={
                "name": "welcome",
                "language": "pt_BR",
                "components": [
                    {
                        "type": "TEMPLATE_COMPONENT_TYPE_BODY",
                        "parameters": [{"parameterName": "first_name", "text": "Ana"}],
                    }
                ],
            }
        ),
    )
    assert body["template"]["components"][0]["parameters"][0]["parameter_name"] == "first_name"


async def test_content_over_a_limit_never_reaches_meta(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    response = await send(adapter, fake, content(text={"body": "x" * 4097}))
    assert response.error.error.code == "INVALID_CONTENT"
    assert "content.text.body" in response.error.error.message
    assert not response.error.error.retryable
    assert fake.requests == []


async def test_a_bad_recipient_is_refused_before_meta(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    request = adapter_pb2.SendRequest(
        channel=channel_for(fake), recipient="not-a-number", content=content(text={"body": "hi"})
    )
    response = await adapter.stub.Send(request, timeout=RPC_TIMEOUT)
    assert response.error.error.code == "INVALID_RECIPIENT"
    assert fake.requests == []


async def test_an_unconfigured_channel_answers_invalid_config_without_calling_meta(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    request = adapter_pb2.SendRequest(
        channel=adapter_pb2.ChannelConfig(),
        recipient=CUSTOMER,
        content=content(text={"body": "hi"}),
    )
    response = await adapter.stub.Send(request, timeout=RPC_TIMEOUT)
    assert response.error.error.code == "INVALID_CONFIG"
    assert "config.phone_number_id" in response.error.error.message
    assert fake.requests == []


async def test_mark_read_and_typing_indicator(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    read = await adapter.stub.MarkRead(
        adapter_pb2.MarkReadRequest(
            channel=channel_for(fake), recipient=CUSTOMER, provider_message_id="wamid.IN-9"
        ),
        timeout=RPC_TIMEOUT,
    )
    assert not read.HasField("error")
    typing = await adapter.stub.SendTyping(
        adapter_pb2.SendTypingRequest(
            channel=channel_for(fake),
            recipient=CUSTOMER,
            typing=True,
            provider_message_id="wamid.IN-9",
        ),
        timeout=RPC_TIMEOUT,
    )
    assert not typing.HasField("error")
    assert fake.read_receipts == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN-9"},
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.IN-9",
            "typing_indicator": {"type": "text"},
        },
    ]
    hide = await adapter.stub.SendTyping(
        adapter_pb2.SendTypingRequest(channel=channel_for(fake), recipient=CUSTOMER, typing=False),
        timeout=RPC_TIMEOUT,
    )
    assert not hide.HasField("error")
    assert len(fake.requests) == 2  # hiding needs no call: WhatsApp hides it by itself
