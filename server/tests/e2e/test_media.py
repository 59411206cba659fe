"""Attachments and contact signals end to end: `linktor serve` with the fake adapter process.

CreateAttachment and the streaming upload route, signed download URLs, real sizes checked
against the channel's limits at SendMessage, attachments uploaded to the adapter once per
(channel, attachment), inbound media fetched into storage (message.updated), read receipts
and typing indicators through the adapter."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import grpc
import pytest
from lktest.media import backend_env, eventually, http
from lktest.platform import (
    Client,
    client_for,
    create_tenant,
    fake_adapter_env,
    post_fake_webhook,
    provider_log,
)
from lktest.serve import running_serve

from linktor.v1 import (
    attachment_pb2,
    attachment_pb2_grpc,
    content_pb2,
    conversation_pb2,
    event_pb2,
    message_pb2,
)

pytestmark = pytest.mark.e2e
__all__ = ["backend_env"]  # the fixture, imported for pytest

PNG = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"pixels").digest() * 32


def attachments(client: Client) -> attachment_pb2_grpc.AttachmentServiceStub:
    return attachment_pb2_grpc.AttachmentServiceStub(client.channel)


def image(attachment: str, size: int = 0) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(
        media=content_pb2.MediaContent(
            type=content_pb2.MEDIA_TYPE_IMAGE, attachment=attachment, size_bytes=size
        )
    )


def test_attachments_media_receipts_and_typing(tmp_path: Path, backend_env: dict[str, str]) -> None:
    log_path = tmp_path / "provider.jsonl"
    env = {**backend_env, **fake_adapter_env(log_path)}
    data = tmp_path / "data"
    with running_serve(data, env) as serve:
        tenant = create_tenant(data, env)
        with client_for(serve, tenant) as client:
            api_key = str(tenant["api_key"]["secret"])  # type: ignore[index]
            stub = attachments(client)
            # --- CreateAttachment, then the signed download URL.
            created = stub.CreateAttachment(
                attachment_pb2.CreateAttachmentRequest(
                    parent=client.tenant,
                    attachment=attachment_pb2.Attachment(
                        filename="../pic.png", mime_type="image/png"
                    ),
                    data=PNG,
                ),
                metadata=client.metadata,
            )
            assert created.size_bytes == len(PNG)
            assert created.sha256 == hashlib.sha256(PNG).hexdigest()
            assert created.filename == "pic.png"
            assert (data / "media" / client.tenant.split("/")[1]).is_dir()
            got = stub.GetAttachment(
                attachment_pb2.GetAttachmentRequest(name=created.name), metadata=client.metadata
            )
            assert got.download_url.startswith(serve.http_base + "/media/")
            status, headers, body = http(got.download_url)
            assert (status, body) == (200, PNG)
            assert headers["content-type"] == "image/png"
            assert headers["content-disposition"].startswith("attachment;")
            assert headers["x-content-type-options"] == "nosniff"
            tampered = got.download_url[:-2] + (
                "AA" if not got.download_url.endswith("AA") else "BB"
            )
            assert http(tampered)[0] == 404
            # Not an image after all: refused, naming the field.
            with pytest.raises(grpc.RpcError) as info:
                stub.CreateAttachment(
                    attachment_pb2.CreateAttachmentRequest(
                        parent=client.tenant,
                        attachment=attachment_pb2.Attachment(mime_type="image/png"),
                        data=b"<html><script>alert(1)</script></html>",
                    ),
                    metadata=client.metadata,
                )
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.RpcError) as info:
                stub.CreateAttachment(
                    attachment_pb2.CreateAttachmentRequest(
                        parent=client.tenant,
                        attachment=attachment_pb2.Attachment(mime_type="text/html"),
                        data=b"<html></html>",
                    ),
                    metadata=client.metadata,
                )
            assert "cannot be stored" in (info.value.details() or "")

            # --- The streaming upload route: a 6 MiB image, over the channel's 5 MB limit.
            big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (6 * 1024 * 1024)
            upload_url = f"{serve.http_base}/upload/v1/{client.tenant}/attachments?filename=big.png"
            # No credentials (a short body: the answer comes before a long one is read).
            assert http(upload_url, data=PNG, headers={"content-type": "image/png"})[0] == 401
            status, _, body = http(
                upload_url,
                data=big,
                headers={"content-type": "image/png", "authorization": f"Bearer {api_key}"},
            )
            assert status == 200, body
            big_name = json.loads(body)["name"]

            channel = client.create_sms_channel()
            recipient = message_pb2.Recipient(channel=channel.name, address="+15550700")
            # The declared size is ignored: the attachment's real one is over the limit.
            with pytest.raises(grpc.RpcError) as info:
                client.messages.SendMessage(
                    message_pb2.SendMessageRequest(
                        recipient=recipient, content=image(big_name, 10)
                    ),
                    metadata=client.metadata,
                )
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "content.media.size_bytes" in (info.value.details() or "")

            # --- Sent twice: uploaded to the adapter once, then sent by provider media id.
            sent = [
                client.messages.SendMessage(
                    message_pb2.SendMessageRequest(
                        recipient=recipient, content=image(created.name)
                    ),
                    metadata=client.metadata,
                )
                for _ in range(2)
            ]
            assert sent[0].content.media.mime_type == "image/png"
            assert sent[0].content.media.size_bytes == len(PNG)

            def sends() -> list[dict[str, object]] | None:
                found = [r for r in provider_log(log_path) if r.get("op") == "send"]
                return found if len(found) == 2 else None

            records = eventually(sends)
            uploads = [r for r in provider_log(log_path) if r.get("op") == "upload"]
            assert len(uploads) == 1 and uploads[0]["size"] == len(PNG)
            for record in records:
                media = record["content"]["media"]  # type: ignore[index]
                assert media["providerMediaId"] == uploads[0]["provider_media_id"]

            # --- Inbound media is fetched into storage and the message rewritten.
            assert (
                post_fake_webhook(
                    channel.webhook_url,
                    [
                        {
                            "type": "message",
                            "id": "pm-media-1",
                            "from": "+15550700",
                            "media": {
                                "type": "document",
                                "url": "https://provider.example/m/1",
                                "mime_type": "application/pdf",
                            },
                        },
                        {"type": "message", "id": "pm-text-2", "from": "+15550700", "text": "hi"},
                    ],
                )
                == 200
            )
            conversation = sent[0].name.split("/messages/")[0]

            def fetched() -> message_pb2.Message | None:
                page = client.messages.ListMessages(
                    message_pb2.ListMessagesRequest(parent=conversation), metadata=client.metadata
                )
                media = [m for m in page.messages if m.content.WhichOneof("kind") == "media"]
                inbound = [m for m in media if m.direction == message_pb2.MESSAGE_DIRECTION_INBOUND]
                if inbound and inbound[0].content.media.attachment:
                    return inbound[0]
                return None

            inbound = eventually(fetched)
            assert inbound.metadata["media.source"] == "https://provider.example/m/1"
            stored = stub.GetAttachment(
                attachment_pb2.GetAttachmentRequest(name=inbound.content.media.attachment),
                metadata=client.metadata,
            )
            expected = b"fake media https://provider.example/m/1\n" * 4
            assert http(stored.download_url)[2] == expected
            assert inbound.content.media.sha256 == hashlib.sha256(expected).hexdigest()

            # --- Read receipts: the newest inbound provider id goes to the adapter.
            client.conversations.MarkConversationRead(
                conversation_pb2.MarkConversationReadRequest(name=conversation),
                metadata=client.metadata,
            )

            def marked() -> list[dict[str, object]]:
                return [r for r in provider_log(log_path) if r.get("op") == "mark_read"]

            (receipt,) = eventually(marked)
            assert receipt["provider_message_id"] == "pm-text-2"

            def read_events() -> set[str] | None:
                # Events become visible once the relay has sequenced them.
                events = client.events.ListEvents(
                    event_pb2.ListEventsRequest(parent=client.tenant, types=["message.updated"]),
                    metadata=client.metadata,
                )
                read = {
                    e.message.provider_message_id
                    for e in events.events
                    if e.message.status == message_pb2.MESSAGE_STATUS_READ
                }
                return read if {"pm-media-1", "pm-text-2"} <= read else None

            eventually(read_events)

            # --- Typing indicator through the adapter.
            answer = client.conversations.SendTypingIndicator(
                conversation_pb2.SendTypingIndicatorRequest(name=conversation, typing=True),
                metadata=client.metadata,
            )
            assert answer.supported

            def typed() -> list[dict[str, object]]:
                return [r for r in provider_log(log_path) if r.get("op") == "typing"]

            (typing,) = eventually(typed)
            assert typing == {**typing, "recipient": "+15550700", "typing": True}
