"""The fake adapter in-process: capabilities, config checks, knobs, magic texts, the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import Code
from linktor.adapterkit.testing import channel_config, text_message
from linktor.adapters.fake.adapter import FakeAdapter, provider_message_id
from linktor.adapters.fake.recorder import read_records
from linktor.v1 import channel_pb2, common_pb2, message_pb2

pytestmark = pytest.mark.unit

CTX: Any = None
WEBCHAT = common_pb2.CHANNEL_TYPE_WEBCHAT


def request(
    body: str = "hi", *, attempt: int = 1, config: dict[str, Any] | None = None
) -> adapter_pb2.SendRequest:
    return adapter_pb2.SendRequest(
        channel=channel_config(WEBCHAT, config, {"webhook_secret": "s"}),
        message_id="tenants/t1/conversations/c1/messages/m1",
        recipient="visitor-1",
        content=text_message(body),
        attempt=attempt,
    )


def test_declares_webchat_with_every_kind_by_default() -> None:
    declared = FakeAdapter(env={}).capabilities()
    assert declared.channel_type == WEBCHAT
    assert declared.adapter_name == "linktor-fake"
    assert len(declared.capabilities.content_kinds) == len(channel_pb2.ContentKind.values()) - 1
    assert declared.capabilities.supports_templates


def test_channel_type_and_kinds_come_from_the_environment() -> None:
    declared = FakeAdapter(
        env={"LINKTOR_FAKE_CHANNEL_TYPE": "sms", "LINKTOR_FAKE_CONTENT_KINDS": "text, image"}
    ).capabilities()
    assert declared.channel_type == common_pb2.CHANNEL_TYPE_SMS
    assert list(declared.capabilities.content_kinds) == [
        channel_pb2.CONTENT_KIND_TEXT,
        channel_pb2.CONTENT_KIND_IMAGE,
    ]
    assert not declared.capabilities.supports_templates


@pytest.mark.parametrize(
    "env",
    [
        {"LINKTOR_FAKE_CHANNEL_TYPE": "pigeon"},
        {"LINKTOR_FAKE_CONTENT_KINDS": "text,smell"},
        {"LINKTOR_FAKE_LATENCY_MS": "fast"},
    ],
)
def test_bad_environment_stops_with_the_variable_name(env: dict[str, str]) -> None:
    with pytest.raises(SystemExit, match="LINKTOR_FAKE_"):
        FakeAdapter(env=env).capabilities()


async def test_validate_config() -> None:
    adapter = FakeAdapter(env={})
    empty = await adapter.ValidateConfig(
        adapter_pb2.ValidateConfigRequest(channel=channel_config(WEBCHAT)), CTX
    )
    assert [(v.field, v.description) for v in empty.violations] == [
        ("secrets.webhook_secret", "is required")
    ]
    bad = channel_config(
        WEBCHAT, {"failure_rate": 2, "latency_ms": "x", "colour": "red"}, {"webhook_secret": "s"}
    )
    result = await adapter.ValidateConfig(adapter_pb2.ValidateConfigRequest(channel=bad), CTX)
    assert {v.field for v in result.violations} == {
        "config.failure_rate",
        "config.latency_ms",
        "config.colour",
    }
    good = channel_config(
        WEBCHAT, {"latency_ms": 5, "sync_delivery": True}, {"webhook_secret": "s"}
    )
    ok = await adapter.ValidateConfig(adapter_pb2.ValidateConfigRequest(channel=good), CTX)
    assert not ok.violations
    assert dict(ok.normalized_config) == {"latency_ms": 5.0, "sync_delivery": True}


async def test_a_plain_send_succeeds_with_a_stable_provider_id() -> None:
    reply = await FakeAdapter(env={}).Send(request(), CTX)
    assert reply.provider_message_id == provider_message_id(
        "tenants/t1/conversations/c1/messages/m1"
    )
    assert reply.status == message_pb2.MESSAGE_STATUS_SENT


@pytest.mark.parametrize(
    ("body", "attempt", "code", "retryable"),
    [
        ("[[fake:fail]]", 1, Code.PROVIDER_ERROR, False),
        ("[[fake:retry]] hello", 1, Code.PROVIDER_ERROR, True),
        ("[[fake:throttle]]", 1, Code.RATE_LIMITED, True),
        ("[[fake:fail-attempts=2]]", 2, Code.PROVIDER_ERROR, True),
    ],
)
async def test_magic_texts(body: str, attempt: int, code: str, retryable: bool) -> None:
    reply = await FakeAdapter(env={}).Send(request(body, attempt=attempt), CTX)
    assert (reply.error.error.code, reply.error.error.retryable) == (code, retryable)
    if code == Code.RATE_LIMITED:
        assert reply.error.retry_after.ToMilliseconds() == 1000


async def test_fail_attempts_succeeds_on_the_next_attempt() -> None:
    reply = await FakeAdapter(env={}).Send(request("[[fake:fail-attempts=2]]", attempt=3), CTX)
    assert reply.provider_message_id


async def test_knobs_from_env_and_per_channel_config() -> None:
    adapter = FakeAdapter(env={"LINKTOR_FAKE_FAILURE_RATE": "1", "LINKTOR_FAKE_SEED": "7"})
    assert (await adapter.Send(request(), CTX)).error.error.code == Code.PROVIDER_ERROR
    healthy = await adapter.Send(request(config={"failure_rate": 0, "sync_delivery": True}), CTX)
    assert healthy.status == message_pb2.MESSAGE_STATUS_DELIVERED
    throttled = await adapter.Send(
        request(config={"failure_rate": 0, "throttle_rate": 1, "retry_after_ms": 250}), CTX
    )
    assert throttled.error.retry_after.ToMilliseconds() == 250
    timeout = await adapter.Send(
        request(config={"failure_rate": 0, "timeout_rate": 1, "timeout_ms": 1}), CTX
    )
    assert timeout.error.error.code == Code.TIMEOUT


async def test_failure_rate_is_roughly_honoured() -> None:
    adapter = FakeAdapter(env={"LINKTOR_FAKE_SEED": "42"})
    replies = [await adapter.Send(request(config={"failure_rate": 0.3}), CTX) for _ in range(1000)]
    failures = sum(1 for r in replies if r.HasField("error"))
    assert 230 <= failures <= 370


async def test_every_call_is_recorded(tmp_path: Path) -> None:
    log = tmp_path / "provider.jsonl"
    adapter = FakeAdapter(env={"LINKTOR_FAKE_ADAPTER_LOG": str(log)})
    await adapter.Send(request("hello"), CTX)
    await adapter.Send(request("[[fake:fail]]", attempt=2), CTX)
    await adapter.MarkRead(
        adapter_pb2.MarkReadRequest(recipient="v1", provider_message_id="pm1"), CTX
    )
    await adapter.aclose()
    records = read_records(str(log))
    assert [(r["op"], r.get("outcome"), r.get("attempt")) for r in records] == [
        ("send", "sent", 1),
        ("send", "failed", 2),
        ("mark_read", None, None),
    ]
    assert records[0]["message_id"] == "tenants/t1/conversations/c1/messages/m1"
    assert records[0]["recipient"] == "visitor-1"
    assert records[0]["content"] == {"text": {"body": "hello"}}
    assert records[0]["kind"] == "text"
    assert records[1]["code"] == Code.PROVIDER_ERROR
