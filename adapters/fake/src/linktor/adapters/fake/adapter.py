"""FakeAdapter: the real ChannelAdapter contract over a provider that lives in memory.

Sends succeed instantly unless told otherwise (knobs, magic texts), so it doubles as the
no-op adapter of the send-pipeline benchmarks: the Send path does no I/O unless recording
or a knob asks for it.

Magic texts (in a text body; always active):

- ``[[fake:crash]]`` exit at once (the provider never saw it);
- ``[[fake:crash-attempts=N]]`` exit while ``attempt <= N`` (delivered by a later attempt);
- ``[[fake:crash-after-send]]`` record the message as seen, then exit without answering;
- ``[[fake:fail]]`` permanent provider error; ``[[fake:retry]]`` retryable one;
- ``[[fake:fail-attempts=N]]`` retryable error while ``attempt <= N``;
- ``[[fake:throttle]]`` RATE_LIMITED with retry_after; ``[[fake:timeout]]`` no answer
  for timeout_ms, then TIMEOUT.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
from collections.abc import AsyncIterator, Mapping

from google.protobuf import json_format

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import (
    BaseAdapter,
    Code,
    ConfigCheck,
    content_kind,
    failed,
    kind_name,
)
from linktor.adapters.fake import webhook
from linktor.adapters.fake.capabilities import declared_capabilities
from linktor.adapters.fake.knobs import KNOB_NAMES, RATE_KNOBS, Knobs, knobs_for, knobs_from_env
from linktor.adapters.fake.recorder import ENV_LOG, Recorder
from linktor.v1 import channel_pb2, message_pb2

CRASH_EXIT_CODE = 86
_MAGIC = re.compile(r"\[\[fake:([a-z-]+)(?:=(\d+))?\]\]")


def provider_message_id(message_id: str) -> str:
    """The id the fake provider gives a message: stable across retries of the same message."""
    return "fk_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]


class FakeAdapter(BaseAdapter):
    """Configured from the environment (see knobs.py and capabilities.py)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        environ = os.environ if env is None else env
        self._env = environ
        self.knobs = knobs_from_env(environ)
        self.recorder = Recorder(environ.get(ENV_LOG))
        seed = environ.get("LINKTOR_FAKE_SEED")
        self.random = random.Random(int(seed) if seed and seed.isdigit() else None)  # noqa: S311
        self.sends_received = 0

    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        return declared_capabilities(self._env)

    async def validate_config(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ValidateConfigResponse:
        check = ConfigCheck(channel)
        for name in KNOB_NAMES:
            default = getattr(self.knobs, name)
            if isinstance(default, bool):
                check.boolean(name)
            elif name in RATE_KNOBS:
                check.number(name, minimum=0, maximum=1)
            else:
                check.number(name, minimum=0, integer=isinstance(default, int))
        check.secret("webhook_secret", required=True)
        check.secret("verify_token")
        check.reject_unknown(KNOB_NAMES)
        return check.response()

    async def send(self, request: adapter_pb2.SendRequest) -> adapter_pb2.SendResponse:
        self.sends_received += 1
        knobs = knobs_for(self.knobs, request.channel.config)
        if knobs.crash_after_sends and self.sends_received >= knobs.crash_after_sends:
            _crash()
        magic = (
            _MAGIC.findall(request.content.text.body) if request.content.HasField("text") else []
        )
        for word, number in magic:
            if word == "crash" or (
                word == "crash-attempts" and request.attempt <= int(number or 1)
            ):
                _crash()
        if knobs.latency_ms > 0:
            await asyncio.sleep(knobs.latency_ms / 1000)
        result = await self._outcome(request, knobs, dict(magic))
        if self.recorder.enabled:
            self._record(request, result)
        if "crash-after-send" in dict(magic):
            _crash()
        return result

    async def _outcome(
        self, request: adapter_pb2.SendRequest, knobs: Knobs, magic: dict[str, str]
    ) -> adapter_pb2.SendResponse:
        roll = (
            self.random.random()
            if (knobs.failure_rate or knobs.throttle_rate or knobs.timeout_rate)
            else 1.0
        )
        if "fail" in magic:
            return failed(
                Code.PROVIDER_ERROR,
                "the fake provider refused the message",
                provider_code="fake-400",
            )
        failing_attempts = int(magic.get("fail-attempts") or 0)
        if "retry" in magic or request.attempt <= failing_attempts or roll < knobs.failure_rate:
            retryable = knobs.failure_retryable or "retry" in magic or failing_attempts > 0
            return failed(
                Code.PROVIDER_ERROR,
                "the fake provider failed",
                retryable=retryable,
                provider_code="fake-500",
            )
        roll -= knobs.failure_rate
        if "throttle" in magic or 0 <= roll < knobs.throttle_rate:
            return failed(
                Code.RATE_LIMITED,
                "the fake provider is throttling",
                retryable=True,
                provider_code="429",
                retry_after=knobs.retry_after_ms / 1000,
            )
        roll -= knobs.throttle_rate
        if "timeout" in magic or 0 <= roll < knobs.timeout_rate:
            await asyncio.sleep(knobs.timeout_ms / 1000)
            return failed(Code.TIMEOUT, "the fake provider did not answer", retryable=True)
        status = (
            message_pb2.MESSAGE_STATUS_DELIVERED
            if knobs.sync_delivery
            else message_pb2.MESSAGE_STATUS_SENT
        )
        return adapter_pb2.SendResponse(
            provider_message_id=provider_message_id(request.message_id),
            status=status,
        )

    def _record(self, request: adapter_pb2.SendRequest, result: adapter_pb2.SendResponse) -> None:
        self.recorder.record(
            "send",
            message_id=request.message_id,
            recipient=request.recipient,
            attempt=request.attempt,
            channel=request.channel.channel,
            kind=kind_name(content_kind(request.content)),
            content=json_format.MessageToDict(request.content),
            outcome="failed" if result.HasField("error") else "sent",
            code=result.error.error.code,
            provider_message_id=result.provider_message_id,
        )

    async def handle_webhook(
        self, channel: adapter_pb2.ChannelConfig, request: adapter_pb2.HttpRequest
    ) -> adapter_pb2.HandleWebhookResponse:
        return webhook.handle(channel, request)

    async def mark_read(self, request: adapter_pb2.MarkReadRequest) -> adapter_pb2.MarkReadResponse:
        self.recorder.record(
            "mark_read",
            recipient=request.recipient,
            provider_message_id=request.provider_message_id,
        )
        return adapter_pb2.MarkReadResponse()

    async def send_typing(
        self, request: adapter_pb2.SendTypingRequest
    ) -> adapter_pb2.SendTypingResponse:
        self.recorder.record("typing", recipient=request.recipient, typing=request.typing)
        return adapter_pb2.SendTypingResponse()

    async def upload_media(
        self, start: adapter_pb2.UploadMediaStart, data: bytes
    ) -> adapter_pb2.UploadMediaResponse:
        media_id = "fkm_" + hashlib.sha256(data).hexdigest()[:24]
        self.recorder.record(
            "upload", provider_media_id=media_id, size=len(data), mime_type=start.metadata.mime_type
        )
        return adapter_pb2.UploadMediaResponse(provider_media_id=media_id)

    async def download_media(
        self, request: adapter_pb2.DownloadMediaRequest
    ) -> tuple[adapter_pb2.MediaMetadata, AsyncIterator[bytes]]:
        # Deterministic bytes per id, so a test can compare what it downloads.
        body = f"fake media {request.provider_media_id}\n".encode() * 4
        metadata = adapter_pb2.MediaMetadata(
            mime_type="application/octet-stream", size_bytes=len(body)
        )

        async def chunks() -> AsyncIterator[bytes]:
            yield body

        return metadata, chunks()

    async def list_templates(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ListTemplatesResponse:
        return adapter_pb2.ListTemplatesResponse(
            templates=[
                channel_pb2.MessageTemplate(
                    template_name="fake_welcome",
                    language="en",
                    category="UTILITY",
                    status="APPROVED",
                    provider_template_id="fkt_1",
                )
            ]
        )

    async def aclose(self) -> None:
        self.recorder.close()


def _crash() -> None:
    # os._exit skips every cleanup, like a segfault or an OOM kill would.
    os._exit(CRASH_EXIT_CODE)
