"""Web chat end to end against `linktor serve` (the webchat adapter through the real plugin
host), on both backends: sessions, the visitor's message reaching the API and the event
stream, an agent's SendMessage reaching the visitor's socket, delivery and read receipts
from the visitor, and a reconnect resuming without loss or duplicates."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from lktest.platform import client_for, create_tenant
from lktest.serve import running_serve
from lktest.webchat import Visitor, channel_key, create_webchat_channel

from linktor.v1 import common_pb2, content_pb2, conversation_pb2, event_pb2, message_pb2

pytestmark = pytest.mark.e2e


def text(body: str) -> content_pb2.MessageContent:
    return content_pb2.MessageContent(text=content_pb2.TextContent(body=body))


def test_visitor_and_agent_talk_through_the_socket(
    tmp_path: Path, serve_env: dict[str, str]
) -> None:
    data = tmp_path / "data"
    with running_serve(data, serve_env) as serve:
        tenant = create_tenant(data, serve_env)
        with client_for(serve, tenant) as client:
            channel = create_webchat_channel(client, title="Help", greeting="Hi!")
            key = channel_key(channel)
            events = client.events.StreamEvents(
                event_pb2.StreamEventsRequest(parent=client.tenant, types=["message.*"]),
                metadata=client.metadata,
                timeout=90,
            )

            async def scenario() -> None:
                visitor = Visitor.start(serve.http_base, key, name="Ana <script>")
                await visitor.connect()
                await visitor.say("c1", "hello <b>there</b>")
                assert (await visitor.next("accepted"))["id"] == "c1"
                mine = await visitor.next("message")
                assert mine["from"] == "visitor" and mine["id"] == "c1"
                assert mine["content"] == {"text": "hello <b>there</b>"}
                conversation = mine["message"].split("/messages/")[0]

                # The agent answers with the ordinary SendMessage, to the conversation.
                started = time.monotonic()
                sent = client.messages.SendMessage(
                    message_pb2.SendMessageRequest(
                        conversation=conversation,
                        content=text("Hi Ana, how can I help?"),
                    ),
                    metadata=client.metadata,
                    timeout=30,
                )
                reply = await visitor.next("message")
                assert reply["from"] == "agent" and reply["message"] == sent.name
                assert reply["content"] == {"text": "Hi Ana, how can I help?"}
                assert time.monotonic() - started < 5

                # The visitor's browser acknowledges: DELIVERED then READ.
                await visitor.send({"type": "received", "message": sent.name})
                await visitor.send({"type": "read", "message": sent.name})
                deadline = time.monotonic() + 20
                while True:
                    got = client.messages.GetMessage(
                        message_pb2.GetMessageRequest(name=sent.name), metadata=client.metadata
                    )
                    if got.status == message_pb2.MESSAGE_STATUS_READ:
                        break
                    errors = [f for f in visitor.frames if f.get("type") == "error"]
                    assert time.monotonic() < deadline, (got.status, errors)
                    with contextlib.suppress(TimeoutError):  # keeps reading frames meanwhile
                        await visitor.next("error", timeout=0.1)

                # Away: the agent writes twice; back with after=last seq: both, once each.
                await visitor.close()
                names = [
                    client.messages.SendMessage(
                        message_pb2.SendMessageRequest(
                            conversation=conversation, content=text(f"while away {i}")
                        ),
                        metadata=client.metadata,
                        timeout=30,
                    ).name
                    for i in range(2)
                ]
                await asyncio.sleep(1.0)
                await visitor.connect()
                shown: list[str] = []
                while len(shown) < 2:
                    frame = await visitor.next("message")
                    if frame["message"] in names:
                        shown.append(frame["message"])
                assert shown == names  # in order
                await visitor.send({"type": "ping"})
                await visitor.next("pong")
                again = [
                    f
                    for f in visitor.frames
                    if f.get("type") == "message" and f["message"] in names
                ]
                assert len(again) == 2  # once each
                await visitor.close()

            asyncio.run(scenario())

            inbound = next(
                e for e in events if e.type == "message.created"
                and e.message.direction == message_pb2.MESSAGE_DIRECTION_INBOUND
            )  # fmt: skip
            events.cancel()  # type: ignore[no-untyped-call]
            assert inbound.message.content.text.body == "hello <b>there</b>"
            assert inbound.message.sender.display_name == "Ana <script>"
            # An ordinary conversation in the inbox, with the visitor as its contact.
            listed = client.conversations.ListConversations(
                conversation_pb2.ListConversationsRequest(parent=client.tenant),
                metadata=client.metadata,
            )
            (conversation,) = [c for c in listed.conversations if c.channel == channel.name]
            assert conversation.channel_type == common_pb2.CHANNEL_TYPE_WEBCHAT
            assert conversation.contact_display_name == "Ana <script>"
