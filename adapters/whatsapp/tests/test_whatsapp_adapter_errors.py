"""Meta's failures through the real handshake: normalized, retryable or not, with waits."""

from __future__ import annotations

import json

import pytest
from wa_support import CUSTOMER, RPC_TIMEOUT, channel_for, content, send, signed_request
from whatsapp_fake_graph import FakeGraphApi, template

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.launcher import PluginProcess
from linktor.adapterkit.testing import free_port

pytestmark = pytest.mark.integration

HELLO = content(text={"body": "Hello again"})


def wait_seconds(error: adapter_pb2.SendError) -> float:
    return error.retry_after.seconds + error.retry_after.nanos / 1e9


@pytest.mark.parametrize("http_status", [400, 429])
async def test_130429_is_retryable_with_retry_after(
    adapter: PluginProcess, fake: FakeGraphApi, http_status: int
) -> None:
    fake.fail_next(130429, http_status=http_status)
    first = await send(adapter, fake, HELLO)
    error = first.error.error
    assert (error.code, error.retryable, error.provider_code) == ("RATE_LIMITED", True, "130429")
    assert "throughput" in error.provider_message
    assert wait_seconds(first.error) == 1.0
    # The core retries after the pause; the fake no longer throttles.
    second = await send(adapter, fake, HELLO)
    assert second.provider_message_id == fake.sent[-1]["id"]


async def test_metas_retry_after_header_is_honoured(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    fake.fail_next(131056, retry_after="12")
    response = await send(adapter, fake, HELLO)
    assert (response.error.error.code, wait_seconds(response.error)) == ("RATE_LIMITED", 12.0)


async def test_business_use_case_usage_header_gives_the_wait(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    fake.fail_next(80007, usage_minutes=3)
    response = await send(adapter, fake, HELLO)
    assert (response.error.error.code, wait_seconds(response.error)) == ("RATE_LIMITED", 180.0)


async def test_131047_is_reply_window_closed_and_not_retryable(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    fake.fail_next(131047)
    error = (await send(adapter, fake, HELLO)).error.error
    assert (error.code, error.retryable, error.provider_code) == (
        "REPLY_WINDOW_CLOSED",
        False,
        "131047",
    )
    assert "template" in error.message


async def test_reply_window_failure_reported_by_webhook(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    """Meta accepts free-form text outside the window, then reports `failed` with #131047."""
    fake.enforce_reply_window = True
    accepted = await send(adapter, fake, HELLO)
    assert accepted.provider_message_id
    (status,) = fake.pending_statuses
    body = fake.payload({"statuses": [status]})
    raw = json.dumps(body).encode()
    answer = await adapter.stub.HandleWebhook(
        adapter_pb2.HandleWebhookRequest(
            channel=channel_for(fake), request=signed_request(raw, fake.app_secret)
        ),
        timeout=RPC_TIMEOUT,
    )
    (event,) = answer.events
    assert event.status.provider_message_id == accepted.provider_message_id
    assert (event.status.error.code, event.status.error.provider_code) == (
        "REPLY_WINDOW_CLOSED",
        "131047",
    )


async def test_templates_are_allowed_outside_the_window(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    fake.enforce_reply_window = True
    fake.templates.append(template("hello_world", body="Hello World"))
    response = await send(
        adapter, fake, content(template={"name": "hello_world", "language": "en_US"})
    )
    assert response.provider_message_id
    assert fake.pending_statuses == []


async def test_a_wrong_token_is_unauthenticated(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    request = adapter_pb2.SendRequest(
        channel=channel_for(fake, access_token="expired-token"), recipient=CUSTOMER, content=HELLO
    )
    error = (await adapter.stub.Send(request, timeout=RPC_TIMEOUT)).error.error
    assert (error.code, error.retryable, error.provider_code) == ("UNAUTHENTICATED", False, "190")
    assert "secrets.access_token" in error.message


@pytest.mark.parametrize(
    ("code", "retryable"), [(131000, True), (131016, True), (133004, True), (131026, False)]
)
async def test_server_side_and_undeliverable_errors(
    adapter: PluginProcess, fake: FakeGraphApi, code: int, retryable: bool
) -> None:
    fake.fail_next(code)
    error = (await send(adapter, fake, HELLO)).error.error
    assert (error.retryable, error.provider_code) == (retryable, str(code))


async def test_a_bare_5xx_is_retryable(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    fake.fail_next(999500, http_status=502)
    error = (await send(adapter, fake, HELLO)).error.error
    assert error.retryable


async def test_meta_rejects_what_the_documentation_forbids(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    # A media id Meta never issued: the fake (like Meta) refuses with (#100).
    response = await send(
        adapter, fake, content(media={"type": "MEDIA_TYPE_IMAGE", "providerMediaId": "424242"})
    )
    error = response.error.error
    assert (error.code, error.retryable, error.provider_code) == ("INVALID_REQUEST", False, "100")
    assert "media id" in error.provider_message


async def test_template_unknown_and_parameter_count_mismatch(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    missing = await send(adapter, fake, content(template={"name": "nope", "language": "en_US"}))
    assert (missing.error.error.code, missing.error.error.provider_code) == (
        "TEMPLATE_NOT_FOUND",
        "132001",
    )
    fake.templates.append(template("two_params", body="{{1}} and {{2}}"))
    mismatch = await send(
        adapter,
        fake,
        content(
            template={
                "name": "two_params",
                "language": "en_US",
                "components": [
                    {"type": "TEMPLATE_COMPONENT_TYPE_BODY", "parameters": [{"text": "one"}]}
                ],
            }
        ),
    )
    assert (mismatch.error.error.code, mismatch.error.error.provider_code) == (
        "TEMPLATE_PARAMS_MISMATCH",
        "132000",
    )


async def test_meta_unreachable_is_retryable(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    request = adapter_pb2.SendRequest(
        channel=channel_for(fake, graph_base_url=closed), recipient=CUSTOMER, content=HELLO
    )
    error = (await adapter.stub.Send(request, timeout=RPC_TIMEOUT)).error.error
    assert (error.code, error.retryable) == ("PROVIDER_UNAVAILABLE", True)


async def test_mark_read_failures_are_reported(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    fake.fail_next(130429)
    answer = await adapter.stub.MarkRead(
        adapter_pb2.MarkReadRequest(
            channel=channel_for(fake), recipient=CUSTOMER, provider_message_id="wamid.X"
        ),
        timeout=RPC_TIMEOUT,
    )
    assert (answer.error.error.code, answer.error.error.retryable) == ("RATE_LIMITED", True)
