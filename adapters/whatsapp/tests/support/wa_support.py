"""Helpers shared by the WhatsApp adapter tests: fixtures, channel configs, signed requests."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from whatsapp_fake_graph import FakeGraphApi, template

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.launcher import PluginProcess
from linktor.adapterkit.testing import channel_config, webhook_request
from linktor.adapters.whatsapp.content_checks import ContentViolation
from linktor.adapters.whatsapp.outbound import message_body
from linktor.adapters.whatsapp.webhook import signature_for
from linktor.v1 import common_pb2, content_pb2

# The adapter as the plugin host starts it.
ADAPTER_COMMAND = [sys.executable, "-m", "linktor.adapters.whatsapp"]
FIXTURES = Path(__file__).parents[1] / "fixtures"
VERIFY_TOKEN = "test-verify-token"
CUSTOMER = "+16505551234"


def fixture_bytes(name: str) -> bytes:
    """A webhook payload fixture exactly as stored (signatures cover these bytes)."""
    return (FIXTURES / name).read_bytes()


def fixture_payload(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(fixture_bytes(name))
    return payload


def channel_for(
    fake: FakeGraphApi, base_url: str = "", **overrides: str
) -> adapter_pb2.ChannelConfig:
    """The channel configuration of a WhatsApp channel served by ``fake``."""
    config = {
        "phone_number_id": fake.phone_number_id,
        "waba_id": fake.waba_id,
        "graph_base_url": base_url or fake.base_url or "http://127.0.0.1:9",
    }
    secrets = {
        "access_token": fake.access_token,
        "app_secret": fake.app_secret,
        "verify_token": VERIFY_TOKEN,
    }
    for key, value in overrides.items():
        (secrets if key in secrets else config)[key] = value
    return channel_config(common_pb2.CHANNEL_TYPE_WHATSAPP, config, secrets)


def signed_request(
    body: bytes, app_secret: str = "test-app-secret", *, signature: str | None = None
) -> adapter_pb2.HttpRequest:
    """A POST as Meta makes it: raw JSON body and X-Hub-Signature-256."""
    headers = {"content-type": "application/json"}
    value = signature_for(app_secret, body) if signature is None else signature
    if value:
        headers["x-hub-signature-256"] = value
    return webhook_request(body, headers)


TO = "+1 (650) 555-1234"


def content(**kind: Any) -> content_pb2.MessageContent:
    """MessageContent from its JSON form, e.g. content(text={"body": "hi"})."""
    return json_format.ParseDict(kind, content_pb2.MessageContent())


def body_of(message: content_pb2.MessageContent, reply_to: str = "") -> dict[str, Any]:
    return message_body(TO, message, reply_to)


def violation_of(message: content_pb2.MessageContent) -> ContentViolation:
    with pytest.raises(ContentViolation) as caught:
        message_body(TO, message)
    return caught.value


# A template message with every kind of parameter (canonical JSON form), and the approved
# template it fills, as the fake WABA holds it.
ORDER_UPDATE: dict[str, Any] = {
    "name": "order_update",
    "language": "en_US",
    "components": [
        {
            "type": "TEMPLATE_COMPONENT_TYPE_HEADER",
            "parameters": [
                {
                    "media": {
                        "type": "MEDIA_TYPE_DOCUMENT",
                        "url": "https://x.example/i.pdf",
                        "filename": "invoice.pdf",
                    }
                }
            ],
        },
        {
            "type": "TEMPLATE_COMPONENT_TYPE_BODY",
            "parameters": [
                {"text": "Jessica"},
                {
                    "currency": {
                        "fallbackValue": "$100.99",
                        "code": "usd",
                        "amount1000": "100990",
                    }
                },
                {"dateTime": {"fallbackValue": "February 25, 1977"}},
            ],
        },
        {
            "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
            "buttonSubType": "quick_reply",
            "buttonIndex": 0,
            "parameters": [{"payload": "stop"}],
        },
        {
            "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
            "buttonSubType": "url",
            "buttonIndex": 1,
            "parameters": [{"text": "order/1234"}],
        },
        {
            "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
            "buttonSubType": "copy_code",
            "buttonIndex": 2,
            "parameters": [{"couponCode": "SUMMER25"}],
        },
    ],
}


def order_update_definition() -> dict[str, Any]:
    return template(
        "order_update",
        header={"format": "DOCUMENT"},
        body="Hi {{1}}, you paid {{2}} on {{3}}.",
        buttons=[
            {"type": "QUICK_REPLY", "text": "Stop"},
            {"type": "URL", "text": "Track", "url": "https://t.example/{{1}}"},
            {"type": "COPY_CODE", "example": "SUMMER25"},
        ],
    )


# gRPC deadline of one adapter call in tests (generous: CI machines can be loaded).
RPC_TIMEOUT = 10.0


async def send(
    adapter: PluginProcess,
    fake: FakeGraphApi,
    message: content_pb2.MessageContent,
    reply_to: str = "",
) -> adapter_pb2.SendResponse:
    request = adapter_pb2.SendRequest(
        channel=channel_for(fake),
        message_id="tenants/t/conversations/c/messages/m1",
        recipient=CUSTOMER,
        content=message,
        reply_to_provider_message_id=reply_to,
        attempt=1,
    )
    response: adapter_pb2.SendResponse = await adapter.stub.Send(request, timeout=RPC_TIMEOUT)
    return response
