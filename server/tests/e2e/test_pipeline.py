"""The platform end to end as users run it: `linktor serve`, a tenant's API key, a channel
served by the fake adapter process through the plugin host, SendMessage over gRPC until the
provider has it, provider webhooks in, statuses and the event stream, on both backends."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from lktest.media import backend_env, eventually
from lktest.platform import (
    client_for,
    create_tenant,
    fake_adapter_env,
    post_fake_webhook,
    provider_log,
)
from lktest.serve import running_serve

from linktor.v1 import content_pb2, event_pb2, message_pb2

pytestmark = pytest.mark.e2e

__all__ = ["backend_env"]  # the fixture, imported for pytest


def text(body: str) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(text=content_pb2.TextContent(body=body))


def test_send_receive_statuses_and_events(tmp_path: Path, backend_env: dict[str, str]) -> None:
    log_path = tmp_path / "provider.jsonl"
    env = {**backend_env, **fake_adapter_env(log_path)}
    data = tmp_path / "data"
    with running_serve(data, env) as serve:
        tenant = create_tenant(data, env)
        with client_for(serve, tenant) as client:
            channel = client.create_sms_channel()
            assert channel.webhook_url
            events = client.events.StreamEvents(
                event_pb2.StreamEventsRequest(parent=client.tenant, after_sequence=0),
                metadata=client.metadata,
                timeout=60,
            )
            sent = client.messages.SendMessage(
                message_pb2.SendMessageRequest(
                    recipient=message_pb2.Recipient(channel=channel.name, address="+15550400"),
                    content=text("hello from the API"),
                    request_id="e2e-1",
                ),
                metadata=client.metadata,
                timeout=30,
            )
            assert sent.status == message_pb2.MESSAGE_STATUS_ACCEPTED

            def provider_saw() -> list[dict[str, object]]:
                return [r for r in provider_log(log_path) if r.get("op") == "send"]

            (send_record,) = eventually(provider_saw)
            assert send_record["message_id"] == sent.name

            def stored_status() -> message_pb2.Message | None:
                m = client.messages.GetMessage(
                    message_pb2.GetMessageRequest(
                        name=sent.name, view=message_pb2.MESSAGE_VIEW_FULL
                    ),
                    metadata=client.metadata,
                )
                return m if m.status == message_pb2.MESSAGE_STATUS_SENT else None

            stored = eventually(stored_status)
            assert stored.provider_message_id
            assert len(stored.attempts) == 1

            # The provider reports delivery, and the contact answers.
            status = post_fake_webhook(
                channel.webhook_url,
                [
                    {"type": "status", "id": stored.provider_message_id, "status": "delivered",
                     "recipient": "+15550400"},
                    {"type": "message", "id": "pm-1", "from": "+15550400", "name": "Ana",
                     "text": "thanks!"},
                ],
            )  # fmt: skip
            assert status == 200
            # A redelivery of the same webhook is stored once.
            assert (
                post_fake_webhook(
                    channel.webhook_url,
                    [{"type": "message", "id": "pm-1", "from": "+15550400", "text": "thanks!"}],
                )
                == 200
            )
            # A forged signature is refused and stores nothing.
            forged = post_fake_webhook(
                channel.webhook_url.replace(channel.webhook_url[-4:], "xxxx"), []
            )
            assert forged == 404

            def delivered() -> message_pb2.Message | None:
                m = client.messages.GetMessage(
                    message_pb2.GetMessageRequest(name=sent.name), metadata=client.metadata
                )
                return m if m.status == message_pb2.MESSAGE_STATUS_DELIVERED else None

            eventually(delivered)
            conversation_name = sent.name.split("/messages/")[0]

            def two_messages() -> message_pb2.ListMessagesResponse | None:
                page = client.messages.ListMessages(
                    message_pb2.ListMessagesRequest(parent=conversation_name),
                    metadata=client.metadata,
                )
                return page if len(page.messages) == 2 else None

            page = eventually(two_messages)
            assert [m.content.text.body for m in page.messages] == ["thanks!", "hello from the API"]
            assert page.messages[0].direction == message_pb2.MESSAGE_DIRECTION_INBOUND

            seen: list[str] = []
            for event in events:
                seen.append(event.type)
                if (
                    event.type == "message.created"
                    and event.message.direction == message_pb2.MESSAGE_DIRECTION_INBOUND
                ):
                    break
            assert seen.count("message.created") == 2
            assert "message.updated" in seen
            events.cancel()  # type: ignore[no-untyped-call]

            # Another tenant's credentials see nothing of it.
            other = create_tenant(data, env)
            with client_for(serve, other) as intruder, pytest.raises(grpc.RpcError) as info:
                intruder.messages.GetMessage(
                    message_pb2.GetMessageRequest(name=sent.name), metadata=intruder.metadata
                )
            assert info.value.code() == grpc.StatusCode.NOT_FOUND
