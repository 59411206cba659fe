"""The Web Chat adapter: the kit's conformance suite through the real handshake, and the
adapter's own rules (widget settings, what the widget can show, stable provider ids)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from google.protobuf import json_format

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.conformance.checks import ConformanceOptions, Outcome, run_conformance
from linktor.adapters.webchat.adapter import WebchatAdapter, provider_message_id
from linktor.adapters.webchat.config import check_config
from linktor.v1 import common_pb2, content_pb2, message_pb2

ADAPTER_COMMAND = [sys.executable, "-m", "linktor.adapters.webchat"]


def channel(**config: object) -> adapter_pb2.ChannelConfig:
    out = adapter_pb2.ChannelConfig(
        channel="tenants/t/channels/c", type=common_pb2.CHANNEL_TYPE_WEBCHAT
    )
    out.config.update(config)  # type: ignore[arg-type]
    return out


def send_request(
    content: content_pb2.MessageContent,
    message_id: str = "tenants/t/conversations/c/messages/01abc",
) -> adapter_pb2.SendRequest:
    return adapter_pb2.SendRequest(
        channel=channel(),
        message_id=message_id,
        recipient="wv_0123456789abcdef01234567",
        content=content,
    )


@pytest.mark.integration
async def test_conformance_suite_passes() -> None:
    report = await run_conformance(
        ADAPTER_COMMAND, ConformanceOptions(recipient="wv_0123456789abcdef01234567")
    )
    failures = [f"{r.name}: {r.detail}" for r in report.results if r.outcome is Outcome.FAIL]
    assert report.passed, failures
    assert report.adapter.startswith("linktor-webchat")


def test_empty_config_is_valid_and_gets_every_default() -> None:
    result = check_config(channel())
    assert not result.violations
    normalized = json_format.MessageToDict(result.normalized_config)
    assert normalized["title"] == "Chat with us"
    assert normalized["position"] == "bottom-right"
    assert normalized["max_upload_bytes"] == 10 * 1024 * 1024
    assert "image/png" in normalized["allowed_mime_types"]
    assert normalized["messages_per_minute"] == 30


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"color": "red"}, "config.color"),
        ({"color": "#12345g"}, "config.color"),
        ({"position": "top"}, "config.position"),
        ({"title": "x" * 61}, "config.title"),
        ({"greeting": "x" * 501}, "config.greeting"),
        ({"max_upload_bytes": 26 * 1024 * 1024}, "config.max_upload_bytes"),
        ({"max_upload_bytes": 1.5}, "config.max_upload_bytes"),
        ({"allowed_mime_types": ["image/*"]}, "config.allowed_mime_types"),
        ({"allowed_mime_types": "text/html;charset=utf-8"}, "config.allowed_mime_types"),
        ({"allowed_mime_types": 3}, "config.allowed_mime_types"),
        ({"max_message_length": 5000}, "config.max_message_length"),
        ({"messages_per_minute": 0}, "config.messages_per_minute"),
        ({"titel": "typo"}, "config.titel"),
    ],
)
def test_bad_settings_are_named(config: dict[str, object], field: str) -> None:
    violations = check_config(channel(**config)).violations
    assert [v.field for v in violations] == [field]


def test_settings_are_normalized() -> None:
    result = check_config(
        channel(allowed_mime_types="Image/PNG, application/pdf,image/png", color="#AbCdEf")
    )
    normalized = json_format.MessageToDict(result.normalized_config)
    assert normalized["allowed_mime_types"] == ["application/pdf", "image/png"]
    assert normalized["color"] == "#AbCdEf"


async def test_send_answers_sent_with_a_stable_provider_id() -> None:
    adapter = WebchatAdapter()
    text = content_pb2.MessageContent(text=content_pb2.TextContent(body="hello"))
    first = await adapter.Send(send_request(text), None)  # type: ignore[arg-type]
    again = await adapter.Send(send_request(text), None)  # type: ignore[arg-type]
    assert first.status == message_pb2.MESSAGE_STATUS_SENT
    assert first.provider_message_id == again.provider_message_id == "wc_01abc"
    assert provider_message_id("not a name!").startswith("wc_")


@pytest.mark.parametrize(
    "content",
    [
        content_pb2.MessageContent(
            media=content_pb2.MediaContent(
                type=content_pb2.MEDIA_TYPE_IMAGE, url="javascript:alert(1)"
            )
        ),
        content_pb2.MessageContent(
            media=content_pb2.MediaContent(type=content_pb2.MEDIA_TYPE_IMAGE, provider_media_id="x")
        ),
        content_pb2.MessageContent(
            media=content_pb2.MediaContent(
                type=content_pb2.MEDIA_TYPE_IMAGE,
                url="https://e.example/a.exe",
                mime_type="application/x-msdownload",
            )
        ),
        content_pb2.MessageContent(
            media=content_pb2.MediaContent(
                type=content_pb2.MEDIA_TYPE_DOCUMENT, attachment="../../etc/passwd"
            )
        ),
        content_pb2.MessageContent(
            interactive=content_pb2.InteractiveContent(
                body="pick",
                buttons=content_pb2.ReplyButtons(
                    buttons=[content_pb2.Button(id=str(i), title="t") for i in range(6)]
                ),
            )
        ),
        content_pb2.MessageContent(
            interactive=content_pb2.InteractiveContent(
                body="pick",
                quick_replies=content_pb2.QuickReplies(
                    replies=[content_pb2.QuickReply(id="a", title="x" * 41)]
                ),
            )
        ),
    ],
)
async def test_content_the_widget_cannot_show_is_refused(
    content: content_pb2.MessageContent,
) -> None:
    reply = await WebchatAdapter().Send(send_request(content), None)  # type: ignore[arg-type]
    assert reply.error.error.code == "INVALID_CONTENT"
    assert not reply.error.error.retryable


async def test_typing_and_read_are_accepted_without_a_provider() -> None:
    adapter = WebchatAdapter()
    context: Any = None
    typing = await adapter.SendTyping(adapter_pb2.SendTypingRequest(channel=channel()), context)
    read = await adapter.MarkRead(adapter_pb2.MarkReadRequest(channel=channel()), context)
    assert not typing.HasField("error")
    assert not read.HasField("error")
