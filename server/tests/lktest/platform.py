"""Driving a real `linktor serve` subprocess: a tenant and its API key, channels served by the
fake adapter process, authenticated generated stubs, provider webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2

from linktor.v1 import (
    channel_pb2,
    channel_pb2_grpc,
    common_pb2,
    conversation_pb2_grpc,
    event_pb2_grpc,
    message_pb2_grpc,
)
from lktest.serve import ServeProcess, serve_env

WEBHOOK_SECRET = "fake-webhook-secret"


def fake_adapter_env(log_path: Path, channel_type: str = "sms", **knobs: str) -> dict[str, str]:
    """Settings that make `serve` run the fake adapter for ``channel_type``."""
    env = {
        "LINKTOR_ADAPTER_COMMANDS": json.dumps(
            {channel_type: [sys.executable, "-m", "linktor.adapters.fake"]}
        ),
        "LINKTOR_FAKE_CHANNEL_TYPE": channel_type,
        "LINKTOR_FAKE_ADAPTER_LOG": str(log_path),
    }
    env.update({f"LINKTOR_FAKE_{k.upper()}": v for k, v in knobs.items()})
    return env


def create_tenant(
    data_dir: Path, extra_env: dict[str, str] | None = None, plan: str = "enterprise"
) -> dict[str, object]:
    """A tenant on ``plan`` (enterprise: no message or channel limits to trip over; the plan
    limits themselves are tested in the identity and messaging suites)."""
    made = subprocess.run(
        [
            sys.executable, "-m", "linktor.server.cli", "tenant", "create",
            "--name", "Acme", "--owner-email", "owner@acme.example", "--plan", plan,
        ],
        env=serve_env(data_dir, {"LINKTOR_LOG_LEVEL": "warning", **(extra_env or {})}),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return dict(json.loads(made.stdout))


@dataclass
class Client:
    """Generated stubs with the tenant's API key attached to every call."""

    channel: grpc.Channel
    tenant: str
    metadata: tuple[tuple[str, str], ...]

    @property
    def channels(self) -> channel_pb2_grpc.ChannelServiceStub:
        return channel_pb2_grpc.ChannelServiceStub(self.channel)

    @property
    def messages(self) -> message_pb2_grpc.MessageServiceStub:
        return message_pb2_grpc.MessageServiceStub(self.channel)

    @property
    def conversations(self) -> conversation_pb2_grpc.ConversationServiceStub:
        return conversation_pb2_grpc.ConversationServiceStub(self.channel)

    @property
    def events(self) -> event_pb2_grpc.EventServiceStub:
        return event_pb2_grpc.EventServiceStub(self.channel)

    def create_sms_channel(self, **config: Any) -> channel_pb2.Channel:
        struct = struct_pb2.Struct()
        struct.update(config)
        return self.channels.CreateChannel(
            channel_pb2.CreateChannelRequest(
                parent=self.tenant,
                channel=channel_pb2.Channel(
                    display_name="SMS line",
                    type=common_pb2.CHANNEL_TYPE_SMS,
                    config=struct,
                    secrets={"webhook_secret": WEBHOOK_SECRET},
                ),
            ),
            metadata=self.metadata,
            timeout=30,
        )


@contextmanager
def client_for(serve: ServeProcess, tenant: dict[str, object]) -> Iterator[Client]:
    api_key = tenant["api_key"]
    assert isinstance(api_key, dict)
    with grpc.insecure_channel(serve.grpc_target) as channel:
        yield Client(
            channel,
            str(tenant["tenant"]),
            (("authorization", f"Bearer {api_key['secret']}"),),
        )


def post_fake_webhook(url: str, events: list[dict[str, object]]) -> int:
    """Deliver a signed webhook in the fake provider's format; returns the HTTP status."""
    body = json.dumps({"events": events}).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"content-type": "application/json", "x-fake-signature": f"sha256={signature}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def provider_log(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
