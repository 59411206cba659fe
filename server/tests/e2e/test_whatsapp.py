"""WhatsApp end to end through the platform: `linktor serve`, the plugin host, the real
WhatsApp adapter process and the fake Graph API (adapters/whatsapp/tests/support), which
receives the adapter's calls and delivers Meta-signed webhooks to the channel's URL.

Channel creation (ValidateConfig), every content type sent, every inbound type received,
statuses SENT -> DELIVERED -> READ, a 130429 retried, 131047 refused before Meta (the core's
reply window) and from Meta (sync error and failed status), template sync and parameter
counts checked at SendMessage, inbound media fetched, attachments uploaded, read receipts and
typing, and the adapter's 80 msg/s per number honoured by the rate limiter."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from lktest.media import backend_env, eventually, http
from lktest.platform import Client, client_for, create_tenant
from lktest.serve import running_serve
from lktest.whatsapp import VERIFY_TOKEN, ThreadedFake, content, threaded_fake, whatsapp_channel
from whatsapp_fake_graph import StoredMedia, template

from linktor.v1 import (
    attachment_pb2,
    attachment_pb2_grpc,
    channel_pb2,
    conversation_pb2,
    event_pb2,
    message_pb2,
)

pytestmark = pytest.mark.e2e
__all__ = ["backend_env"]  # the fixture, imported for pytest

FIXTURES = Path(__file__).resolve().parents[3] / "adapters" / "whatsapp" / "tests" / "fixtures"
CUSTOMER = "16505551234"
JPEG = b"\xff\xd8\xff\xe0" + b"\x10JFIF" + bytes(range(256)) * 8
UNTHROTTLED = {
    "LINKTOR_RATE_LIMIT_API_KEY_PER_SECOND": "100000",
    "LINKTOR_RATE_LIMIT_API_KEY_BURST": "100000",
    "LINKTOR_RATE_LIMIT_TENANT_PER_SECOND": "100000",
    "LINKTOR_RATE_LIMIT_TENANT_BURST": "100000",
}
OUTBOUND: list[dict[str, Any]] = [
    {"text": {"body": "Hello https://linktor.example", "previewUrl": True}},
    {"media": {"type": "MEDIA_TYPE_IMAGE", "url": "https://cdn.example.com/a.jpg",
               "mimeType": "image/jpeg", "caption": "a picture"}},
    {"media": {"type": "MEDIA_TYPE_VIDEO", "url": "https://cdn.example.com/a.mp4",
               "mimeType": "video/mp4"}},
    {"media": {"type": "MEDIA_TYPE_AUDIO", "url": "https://cdn.example.com/a.mp3",
               "mimeType": "audio/mpeg"}},
    {"media": {"type": "MEDIA_TYPE_VOICE", "url": "https://cdn.example.com/a.ogg",
               "mimeType": "audio/ogg"}},
    {"media": {"type": "MEDIA_TYPE_DOCUMENT", "url": "https://cdn.example.com/a.pdf",
               "mimeType": "application/pdf", "filename": "invoice.pdf"}},
    {"media": {"type": "MEDIA_TYPE_STICKER", "url": "https://cdn.example.com/a.webp",
               "mimeType": "image/webp"}},
    {"location": {"latitude": 38.72, "longitude": -9.14, "name": "Office", "address": "Lisbon"}},
    {"contacts": {"contacts": [{"formattedName": "Ana Silva", "phones": [{"number": "+351910000000"}]}]}},
    {"interactive": {"body": "Pick one", "buttons": {"buttons": [{"id": "y", "title": "Yes"},
                                                                 {"id": "n", "title": "No"}]}}},
    {"interactive": {"body": "Menu", "list": {"buttonText": "Open", "sections": [
        {"title": "Food", "rows": [{"id": "r1", "title": "Soup"}]}]}}},
    {"interactive": {"body": "Track it", "ctaUrl": {"displayText": "Track",
                                                    "url": "https://linktor.example/t"}}},
    {"interactive": {"body": "Look", "product": {"catalogId": "c1", "productRetailerId": "sku1"}}},
    {"interactive": {"header": {"text": "Catalog"}, "body": "Browse", "productList": {
        "catalogId": "c1", "sections": [{"title": "All", "productRetailerIds": ["sku1", "sku2"]}]}}},
]  # fmt: skip


def send(client: Client, conversation: str, raw: dict[str, Any], **kw: Any) -> message_pb2.Message:
    return client.messages.SendMessage(
        message_pb2.SendMessageRequest(conversation=conversation, content=content(raw), **kw),
        metadata=client.metadata,
        timeout=30,
    )


def get(client: Client, name: str) -> message_pb2.Message:
    return client.messages.GetMessage(
        message_pb2.GetMessageRequest(name=name, view=message_pb2.MESSAGE_VIEW_FULL),
        metadata=client.metadata,
    )


def settled(client: Client, name: str, status: int) -> message_pb2.Message:
    def check() -> message_pb2.Message | None:
        message = get(client, name)
        return message if message.status == status else None

    try:
        return eventually(check)
    except AssertionError:
        last = get(client, name)
        raise AssertionError(f"{name} is {last.status}: {last.error} {last.content}") from None


def messages_of(client: Client, conversation: str) -> list[message_pb2.Message]:
    page = client.messages.ListMessages(
        message_pb2.ListMessagesRequest(parent=conversation, page_size=500),
        metadata=client.metadata,
    )
    return list(page.messages)


def fixture(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return payload


def wamids(payload: dict[str, Any], phone_number_id: str = "106540352242922") -> list[str]:
    """The messages of a payload for our number (a change for another number is skipped)."""
    return [
        m["id"]
        for entry in payload["entry"]
        for change in entry["changes"]
        if change["value"].get("metadata", {}).get("phone_number_id") == phone_number_id
        for m in change["value"].get("messages", [])
    ]


@pytest.mark.timeout(300)
def test_whatsapp_through_the_platform(tmp_path: Path, backend_env: dict[str, str]) -> None:
    data = tmp_path / "data"
    env = {**backend_env, **UNTHROTTLED}
    with (
        threaded_fake(auto_statuses=("sent", "delivered", "read")) as wa,
        running_serve(data, env) as serve,
    ):
        tenant = create_tenant(data, env)
        with client_for(serve, tenant) as client:
            _platform_flow(client, wa, serve.http_base)


def _platform_flow(client: Client, wa: ThreadedFake, http_base: str) -> None:
    fake = wa.fake
    # --- ValidateConfig: a wrong configuration is refused, naming the field.
    with pytest.raises(grpc.RpcError) as info:
        whatsapp_channel(client, wa, phone_number_id="not-digits")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "phone_number_id" in (info.value.details() or "")
    channel = whatsapp_channel(client, wa)
    assert channel.capabilities.default_rate_limit.per_second == 80
    fake.webhook_url = channel.webhook_url
    # Meta's verification handshake.
    query = f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    status, _, body = http(f"{channel.webhook_url}?{query}")
    assert (status, body) == (200, b"1158201444")

    # --- Templates synced, then parameter counts checked before Meta is called.
    fake.templates.append(template("order_update", body="Order {{1}} shipped"))
    client.channels.SyncMessageTemplates(
        channel_pb2.SyncMessageTemplatesRequest(parent=channel.name), metadata=client.metadata
    )
    stranger = message_pb2.Recipient(channel=channel.name, address="+14155550100")
    order: dict[str, Any] = {"template": {"name": "order_update", "language": "en_US", "components": [
        {"type": "TEMPLATE_COMPONENT_TYPE_BODY", "parameters": [{"text": "A-1"}, {"text": "x"}]}]}}  # fmt: skip
    with pytest.raises(grpc.RpcError) as info:
        client.messages.SendMessage(
            message_pb2.SendMessageRequest(recipient=stranger, content=content(order)),
            metadata=client.metadata,
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # --- Outside the 24-hour window free-form text is refused before Meta; templates pass.
    with pytest.raises(grpc.RpcError) as info:
        client.messages.SendMessage(
            message_pb2.SendMessageRequest(recipient=stranger, content=content(OUTBOUND[0])),
            metadata=client.metadata,
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "reply window" in (info.value.details() or "")
    assert fake.sent == []
    del order["template"]["components"][0]["parameters"][1]
    templated = client.messages.SendMessage(
        message_pb2.SendMessageRequest(recipient=stranger, content=content(order)),
        metadata=client.metadata,
    )
    settled(client, templated.name, message_pb2.MESSAGE_STATUS_READ)
    assert fake.sent[0]["type"] == "template"

    # --- The customer writes: the window opens.
    wa.run(fake.send_customer_text(CUSTOMER, "Hi, where is my order?"))

    def conversation_name() -> str | None:
        page = client.conversations.ListConversations(
            conversation_pb2.ListConversationsRequest(parent=client.tenant),
            metadata=client.metadata,
        )
        found = [c for c in page.conversations if c.HasField("reply_window_expire_time")]
        return found[0].name if found else None

    conversation = eventually(conversation_name)
    (inbound,) = messages_of(client, conversation)

    # --- Every content type, then an attachment, a reaction and a reply.
    sent_before = len(fake.sent)
    names = [send(client, conversation, raw).name for raw in OUTBOUND]
    attachment = attachment_pb2_grpc.AttachmentServiceStub(client.channel).CreateAttachment(
        attachment_pb2.CreateAttachmentRequest(
            parent=client.tenant,
            attachment=attachment_pb2.Attachment(filename="photo.jpg", mime_type="image/jpeg"),
            data=JPEG,
        ),
        metadata=client.metadata,
    )
    by_attachment = {"media": {"type": "MEDIA_TYPE_IMAGE", "attachment": attachment.name}}
    names.append(send(client, conversation, by_attachment).name)
    names.append(send(client, conversation, by_attachment).name)
    names.append(
        send(client, conversation, {"reaction": {"message": inbound.name, "emoji": "👍"}}).name
    )
    names.append(
        send(client, conversation, {"text": {"body": "On its way"}}, reply_to=inbound.name).name
    )
    for name in names:
        settled(client, name, message_pb2.MESSAGE_STATUS_READ)
    accepted = fake.sent[sent_before:]
    assert len(accepted) == len(names)
    assert {m["type"] for m in accepted} == {
        "text", "image", "video", "audio", "document", "sticker", "location", "contacts",
        "interactive", "reaction",
    }  # fmt: skip
    assert {m["interactive"]["type"] for m in accepted if m["type"] == "interactive"} == {
        "button", "list", "cta_url", "product", "product_list"
    }  # fmt: skip
    assert accepted[4]["audio"].get("voice") is True
    assert accepted[-1]["context"]["message_id"] == inbound.provider_message_id
    assert accepted[-2]["reaction"]["message_id"] == inbound.provider_message_id
    # The attachment was uploaded once (POST /media) and both sends used its media id.
    uploads = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/media")]
    assert len(uploads) == 1 and uploads[0].file is not None and uploads[0].file[2] == JPEG
    media_ids = {m["image"].get("id") for m in accepted[len(OUTBOUND) : len(OUTBOUND) + 2]}
    assert len(media_ids) == 1 and media_ids <= set(fake.media)
    # Statuses only moved forward, and Meta's sent -> delivered -> read was followed.
    read = message_pb2.MESSAGE_STATUS_READ

    def updates() -> dict[str, list[Any]] | None:
        events = client.events.ListEvents(
            event_pb2.ListEventsRequest(
                parent=client.tenant, types=["message.updated"], page_size=1000
            ),
            metadata=client.metadata,
        ).events
        seen = {n: [e.message.status for e in events if e.message.name == n] for n in names}
        return seen if all(s and s[-1] == read for s in seen.values()) else None

    seen = eventually(updates)
    assert all(statuses == sorted(statuses) for statuses in seen.values()), seen
    full_path = [message_pb2.MESSAGE_STATUS_SENT, message_pb2.MESSAGE_STATUS_DELIVERED, read]
    assert any(statuses[-3:] == full_path for statuses in seen.values()), seen

    # --- 130429: retried after Meta's pause, then sent.
    fake.fail_next(130429)
    throttled = send(client, conversation, {"text": {"body": "busy hour"}})
    retried = settled(client, throttled.name, message_pb2.MESSAGE_STATUS_READ)
    assert [a.outcome for a in retried.attempts] == [
        message_pb2.ATTEMPT_OUTCOME_RETRYING, message_pb2.ATTEMPT_OUTCOME_SUCCEEDED
    ]  # fmt: skip
    assert retried.attempts[0].error.provider_code == "130429"
    # --- 131047 from Meta although the core thinks the window is open (stale state):
    # synchronously ...
    fake.fail_next(131047)
    refused = send(client, conversation, {"text": {"body": "late"}})
    failed = settled(client, refused.name, message_pb2.MESSAGE_STATUS_FAILED)
    assert failed.error.code == "REPLY_WINDOW_CLOSED" and not failed.error.retryable
    assert len(failed.attempts) == 1
    # ... and as a failed status webhook after Meta accepted the message.
    fake.enforce_reply_window = True
    fake.customer_wrote(CUSTOMER, at=time.time() - 25 * 3600)
    later = send(client, conversation, {"text": {"body": "later"}})
    failed = settled(client, later.name, message_pb2.MESSAGE_STATUS_FAILED)
    assert failed.error.code == "REPLY_WINDOW_CLOSED"
    assert failed.error.provider_code == "131047"
    fake.enforce_reply_window = False

    _inbound_types(client, wa, conversation)
    _receipts_and_typing(client, wa, conversation)


def _inbound_types(client: Client, wa: ThreadedFake, conversation: str) -> None:
    fake = wa.fake
    names = [*sorted(p.name for p in FIXTURES.glob("message_*.json")), "batched.json"]
    expected: set[str] = set()
    for name in names:
        payload = fixture(name)
        if name == "message_image.json":
            # Media the fake holds, so the platform can fetch it.
            message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
            media_id = fake.add_media(JPEG, "image/jpeg")
            message["image"].update(id=media_id, sha256=StoredMedia(JPEG, "").sha256)
        expected.update(wamids(payload, fake.phone_number_id))
        assert wa.run(fake.deliver(payload)).status_code == 200
    # A forged signature stores nothing.
    forged = wa.run(fake.deliver(fixture("message_text.json"), signature="sha256=00"))
    assert forged.status_code == 401

    def stored() -> dict[str, message_pb2.Message] | None:
        page = client.conversations.ListConversations(
            conversation_pb2.ListConversationsRequest(parent=client.tenant, page_size=100),
            metadata=client.metadata,
        )
        found = {
            m.provider_message_id: m
            for c in page.conversations
            for m in messages_of(client, c.name)
            if m.direction == message_pb2.MESSAGE_DIRECTION_INBOUND
        }
        return found if expected <= set(found) else None

    try:
        found = eventually(stored)
    except AssertionError:
        page = client.conversations.ListConversations(
            conversation_pb2.ListConversationsRequest(parent=client.tenant, page_size=100),
            metadata=client.metadata,
        )
        have = {
            m.provider_message_id for c in page.conversations for m in messages_of(client, c.name)
        }
        raise AssertionError(f"not stored: {sorted(expected - have)}") from None
    kinds = {found[w].content.WhichOneof("kind") for w in expected}
    assert kinds >= {
        "text", "media", "location", "contacts", "interactive_reply", "reaction", "order",
        "system", "unsupported",
    }  # fmt: skip
    image_id = wamids(fixture("message_image.json"))[0]

    def fetched() -> message_pb2.Message | None:
        message = client.messages.GetMessage(
            message_pb2.GetMessageRequest(name=found[image_id].name), metadata=client.metadata
        )
        return message if message.content.media.attachment else None

    image = eventually(fetched)
    assert image.content.media.caption == "Is this the right one?"
    stored_image = attachment_pb2_grpc.AttachmentServiceStub(client.channel).GetAttachment(
        attachment_pb2.GetAttachmentRequest(name=image.content.media.attachment),
        metadata=client.metadata,
    )
    assert http(stored_image.download_url)[2] == JPEG


def _receipts_and_typing(client: Client, wa: ThreadedFake, conversation: str) -> None:
    fake = wa.fake
    wa.run(fake.send_customer_text(CUSTOMER, "Thanks!"))
    newest = eventually(
        lambda: next(
            (m for m in messages_of(client, conversation) if m.content.text.body == "Thanks!"),
            None,
        )
    )
    client.conversations.MarkConversationRead(
        conversation_pb2.MarkConversationReadRequest(name=conversation), metadata=client.metadata
    )
    reads = [r for r in fake.requests if r.json and r.json.get("status") == "read"]
    assert reads and reads[-1].json["message_id"] == newest.provider_message_id
    answer = client.conversations.SendTypingIndicator(
        conversation_pb2.SendTypingIndicatorRequest(name=conversation, typing=True),
        metadata=client.metadata,
    )
    assert answer.supported
    typing = [r for r in fake.requests if r.json and "typing_indicator" in r.json]
    assert typing and typing[-1].json["message_id"] == newest.provider_message_id


def _template_to(client: Client, channel: str, address: str) -> message_pb2.Message:
    order = {"template": {"name": "order_update", "language": "en_US", "components": [
        {"type": "TEMPLATE_COMPONENT_TYPE_BODY", "parameters": [{"text": address}]}]}}  # fmt: skip
    return client.messages.SendMessage(
        message_pb2.SendMessageRequest(
            recipient=message_pb2.Recipient(channel=channel, address=address),
            content=content(order),
        ),
        metadata=client.metadata,
        timeout=30,
    )


def _throughput(client: Client, wa: ThreadedFake, channel: str) -> None:
    """Sends as fast as the API takes them; Meta must see at most 80/s after the burst."""
    fake = wa.fake
    fake.auto_statuses = ()
    time.sleep(1.5)  # the channel's bucket refills
    count = 300
    before = len(fake.sent)
    arrivals: list[float] = []
    with ThreadPoolExecutor(16) as pool:
        started = time.monotonic()
        # One conversation's messages go out one after the other (order is kept per
        # conversation), so the load is spread over many recipients: templates, which need
        # no open window.
        futures = [
            pool.submit(_template_to, client, channel, f"+1415666{i:04d}") for i in range(count)
        ]
        seen = before
        deadline = started + 60
        while seen < before + count and time.monotonic() < deadline:
            now_seen = len(fake.sent)
            arrivals += [time.monotonic()] * (now_seen - seen)
            seen = now_seen
            time.sleep(0.005)
        accepted_by = max(f.result().create_time.ToDatetime().timestamp() for f in futures)
    assert len(arrivals) == count, f"{len(arrivals)} of {count} reached Meta in 60 s"
    span = arrivals[-1] - arrivals[0]
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    print(
        f"throughput: {count} messages reached Meta in {span:.2f} s "
        f"({(count - 80) / max(span, 1e-9):.1f}/s after the 80-message burst); "
        f"busiest second {busiest}; last accepted at {accepted_by:.3f}"
    )
    # 80 at once (the burst), then 80 per second: at least (300 - 80) / 80 = 2.75 s.
    assert span >= 2.4
    assert busiest <= 80 + 80 + 5


@pytest.mark.timeout(300)
def test_whatsapp_rate_limit_is_the_adapters_80_per_second(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with threaded_fake() as wa, running_serve(data, UNTHROTTLED) as serve:
        tenant = create_tenant(data, UNTHROTTLED)
        with client_for(serve, tenant) as client:
            channel = whatsapp_channel(client, wa)
            assert channel.capabilities.default_rate_limit.per_second == 80
            wa.fake.templates.append(template("order_update", body="Order {{1}} shipped"))
            client.channels.SyncMessageTemplates(
                channel_pb2.SyncMessageTemplatesRequest(parent=channel.name),
                metadata=client.metadata,
            )
            _throughput(client, wa, channel.name)
