"""HandleWebhook through the real handshake: every fixture signed, rejections, handshake,
and signed deliveries the fake makes as Meta does."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from wa_support import (
    FIXTURES,
    RPC_TIMEOUT,
    VERIFY_TOKEN,
    channel_for,
    content,
    fixture_bytes,
    send,
    signed_request,
)
from whatsapp_fake_graph import FakeGraphApi

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.launcher import PluginProcess
from linktor.adapterkit.testing import serve_asgi, webhook_request
from linktor.v1 import message_pb2

pytestmark = pytest.mark.integration

ALL_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.json"))


async def handle(
    adapter: PluginProcess, fake: FakeGraphApi, request: adapter_pb2.HttpRequest
) -> adapter_pb2.HandleWebhookResponse:
    answer: adapter_pb2.HandleWebhookResponse = await adapter.stub.HandleWebhook(
        adapter_pb2.HandleWebhookRequest(channel=channel_for(fake), request=request),
        timeout=RPC_TIMEOUT,
    )
    return answer


@pytest.mark.parametrize("name", ALL_FIXTURES)
async def test_every_fixture_signed_with_the_app_secret_is_parsed(
    adapter: PluginProcess, fake: FakeGraphApi, name: str
) -> None:
    answer = await handle(adapter, fake, signed_request(fixture_bytes(name), fake.app_secret))
    assert answer.response.status == 200
    assert answer.authenticated
    assert answer.events
    for event in answer.events:
        kind = event.WhichOneof("kind")
        assert (
            kind == ("status" if name.startswith("status_") else "message")
            or name == "batched.json"
        )


@pytest.mark.parametrize("name", ["message_text.json", "status_failed.json"])
async def test_a_wrong_signature_yields_401_and_no_events(
    adapter: PluginProcess, fake: FakeGraphApi, name: str
) -> None:
    for signature in ("", "sha256=deadbeef"):
        answer = await handle(
            adapter, fake, signed_request(fixture_bytes(name), signature=signature)
        )
        assert answer.response.status == 401
        assert not answer.authenticated
        assert not answer.events


async def test_verification_handshake(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    query = f"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}"
    answer = await handle(adapter, fake, webhook_request(b"", method="GET", query=query))
    assert (answer.response.status, answer.response.body) == (200, b"1158201444")
    wrong = await handle(
        adapter,
        fake,
        webhook_request(b"", method="GET", query=query.replace(VERIFY_TOKEN, "guess")),
    )
    assert wrong.response.status == 403
    assert not wrong.authenticated


async def test_an_unconfigured_channel_refuses_webhooks(adapter: PluginProcess) -> None:
    answer = await adapter.stub.HandleWebhook(
        adapter_pb2.HandleWebhookRequest(
            channel=adapter_pb2.ChannelConfig(),
            request=signed_request(fixture_bytes("message_text.json")),
        ),
        timeout=RPC_TIMEOUT,
    )
    assert answer.response.status == 403
    assert not answer.authenticated
    assert not answer.events


async def test_statuses_delivered_by_the_fake_advance_in_order(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    """The fake acts as Meta: a signed POST per status to a webhook receiver that forwards
    the raw request to the adapter, as the core's webhook ingress does."""
    received: list[adapter_pb2.InboundEvent] = []

    async def ingress(request: Request) -> Response:
        http = adapter_pb2.HttpRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers=[
                adapter_pb2.Header(name=k.lower(), value=v) for k, v in request.headers.items()
            ],
            body=await request.body(),
        )
        answer = await handle(adapter, fake, http)
        received.extend(answer.events)
        return Response(answer.response.body, status_code=answer.response.status)

    async with serve_asgi(
        Starlette(routes=[Route("/webhooks/ch_1", ingress, methods=["GET", "POST"])])
    ) as ingress_url:
        fake.webhook_url = f"{ingress_url}/webhooks/ch_1"
        fake.auto_statuses = ("sent", "delivered", "read")
        response = await send(adapter, fake, content(text={"body": "Your order shipped"}))
        inbound_id = await fake.send_customer_text("16505551234", "Thanks!")
        await fake.drain()
    assert [d.status_code for d in fake.deliveries] == [200, 200, 200, 200]
    statuses = [e.status for e in received if e.HasField("status")]
    assert [s.provider_message_id for s in statuses] == [response.provider_message_id] * 3
    assert {s.metadata["biz_opaque_callback_data"] for s in statuses} == {
        "tenants/t/conversations/c/messages/m1"
    }
    assert [message_pb2.MessageStatus.Name(s.status) for s in statuses] == [
        "MESSAGE_STATUS_SENT",
        "MESSAGE_STATUS_DELIVERED",
        "MESSAGE_STATUS_READ",
    ]
    messages = [e.message for e in received if e.HasField("message")]
    assert [(m.provider_message_id, m.content.text.body) for m in messages] == [
        (inbound_id, "Thanks!")
    ]
