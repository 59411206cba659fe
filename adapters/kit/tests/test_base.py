"""BaseAdapter's guarantees around the hooks, called in-process (no gRPC)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import BaseAdapter, Code, WebhookRejected, handled
from linktor.adapterkit.http import BlockedAddressError
from linktor.adapterkit.testing import channel_config, text_message, webhook_request
from linktor.v1 import channel_pb2, common_pb2, content_pb2, message_pb2

pytestmark = pytest.mark.unit

CTX: Any = None  # the hooks under test never touch the gRPC context


class TextOnly(BaseAdapter):
    """Declares text only; its hooks do whatever the test sets."""

    def __init__(self) -> None:
        self.result: adapter_pb2.SendResponse | Exception = adapter_pb2.SendResponse(
            provider_message_id="p1"
        )
        self.webhook_error: Exception | None = None
        self.sent: list[str] = []

    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        return adapter_pb2.GetCapabilitiesResponse(
            channel_type=common_pb2.CHANNEL_TYPE_SMS,
            adapter_name="text-only",
            capabilities=channel_pb2.ChannelCapabilities(
                content_kinds=[channel_pb2.CONTENT_KIND_TEXT]
            ),
            config_fields=[adapter_pb2.ConfigField(key="token", secret=True, required=True)],
        )

    async def send(self, request: adapter_pb2.SendRequest) -> adapter_pb2.SendResponse:
        self.sent.append(request.message_id)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    async def handle_webhook(
        self, channel: adapter_pb2.ChannelConfig, request: adapter_pb2.HttpRequest
    ) -> adapter_pb2.HandleWebhookResponse:
        if self.webhook_error is not None:
            raise self.webhook_error
        return handled()


def send_request(
    content: content_pb2.MessageContent, recipient: str = "+15550001"
) -> adapter_pb2.SendRequest:
    return adapter_pb2.SendRequest(
        channel=channel_config(common_pb2.CHANNEL_TYPE_SMS),
        message_id="m1",
        recipient=recipient,
        content=content,
        attempt=1,
    )


async def test_send_passes_declared_content_and_defaults_status_to_sent() -> None:
    adapter = TextOnly()
    reply = await adapter.Send(send_request(text_message("hi")), CTX)
    assert reply.provider_message_id == "p1"
    assert reply.status == message_pb2.MESSAGE_STATUS_SENT
    assert adapter.sent == ["m1"]


@pytest.mark.parametrize(
    ("content", "recipient", "code"),
    [
        (
            content_pb2.MessageContent(location=content_pb2.LocationContent()),
            "+1",
            Code.CONTENT_NOT_SUPPORTED,
        ),
        (content_pb2.MessageContent(), "+1", Code.INVALID_CONTENT),
        (text_message("hi"), "  ", Code.INVALID_RECIPIENT),
    ],
)
async def test_send_refuses_before_calling_the_hook(
    content: content_pb2.MessageContent, recipient: str, code: str
) -> None:
    adapter = TextOnly()
    reply = await adapter.Send(send_request(content, recipient), CTX)
    assert reply.error.error.code == code
    assert not reply.error.error.retryable
    assert adapter.sent == []


@pytest.mark.parametrize(
    ("exc", "code", "retryable"),
    [
        (httpx.ReadTimeout("slow"), Code.TIMEOUT, True),
        (httpx.ConnectError("refused"), Code.PROVIDER_UNAVAILABLE, True),
        (BlockedAddressError("private"), Code.BLOCKED_ADDRESS, False),
        (RuntimeError("bug"), Code.ADAPTER_ERROR, True),
    ],
)
async def test_send_exceptions_become_normalized_errors(
    exc: Exception, code: str, retryable: bool
) -> None:
    adapter = TextOnly()
    adapter.result = exc
    reply = await adapter.Send(send_request(text_message("hi")), CTX)
    assert (reply.error.error.code, reply.error.error.retryable) == (code, retryable)
    assert not reply.provider_message_id


async def test_send_results_are_normalized_to_exactly_one_of_id_and_error() -> None:
    adapter = TextOnly()
    adapter.result = adapter_pb2.SendResponse()
    empty = await adapter.Send(send_request(text_message("hi")), CTX)
    assert empty.error.error.code == Code.ADAPTER_ERROR
    adapter.result = adapter_pb2.SendResponse(error=adapter_pb2.SendError())
    no_code = await adapter.Send(send_request(text_message("hi")), CTX)
    assert no_code.error.error.code == Code.PROVIDER_ERROR
    both = adapter_pb2.SendResponse(provider_message_id="p2", error=adapter_pb2.SendError())
    adapter.result = both
    reply = await adapter.Send(send_request(text_message("hi")), CTX)
    assert reply.provider_message_id == "p2"
    assert not reply.HasField("error")


@pytest.mark.parametrize(
    ("exc", "status", "authenticated"),
    [
        (WebhookRejected(401, "bad signature"), 401, False),
        (WebhookRejected(400, "bad json", authenticated=True), 400, True),
        (KeyError("entry"), 400, False),
        (ValueError("not json"), 400, False),
        (RuntimeError("bug"), 500, False),
    ],
)
async def test_webhook_failures_become_http_answers(
    exc: Exception, status: int, authenticated: bool
) -> None:
    adapter = TextOnly()
    adapter.webhook_error = exc
    reply = await adapter.HandleWebhook(
        adapter_pb2.HandleWebhookRequest(request=webhook_request(b"\x00garbage")), CTX
    )
    assert (reply.response.status, reply.authenticated, list(reply.events)) == (
        status,
        authenticated,
        [],
    )


async def test_defaults_answer_not_supported_in_the_response() -> None:
    adapter = TextOnly()
    assert (
        await adapter.MarkRead(adapter_pb2.MarkReadRequest(), CTX)
    ).error.error.code == Code.NOT_SUPPORTED
    assert (
        await adapter.SendTyping(adapter_pb2.SendTypingRequest(), CTX)
    ).error.error.code == Code.NOT_SUPPORTED
    assert (
        list((await adapter.ListTemplates(adapter_pb2.ListTemplatesRequest(), CTX)).templates) == []
    )

    async def parts() -> AsyncIterator[adapter_pb2.UploadMediaRequest]:
        yield adapter_pb2.UploadMediaRequest(start=adapter_pb2.UploadMediaStart())
        yield adapter_pb2.UploadMediaRequest(chunk=b"abc")

    upload = await adapter.UploadMedia(parts(), CTX)
    assert upload.error.error.code == Code.NOT_SUPPORTED


async def test_validate_and_check_channel_use_the_declared_fields() -> None:
    adapter = TextOnly()
    empty = adapter_pb2.ValidateConfigRequest(channel=channel_config(common_pb2.CHANNEL_TYPE_SMS))
    violations = (await adapter.ValidateConfig(empty, CTX)).violations
    assert [(v.field, v.description) for v in violations] == [("secrets.token", "is required")]
    check = await adapter.CheckChannel(adapter_pb2.CheckChannelRequest(channel=empty.channel), CTX)
    assert not check.ok
    assert check.message == "secrets.token: is required"
    assert check.HasField("latency")
