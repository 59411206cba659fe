"""The conformance checks: launch an adapter through the handshake and hold it to the contract.

Each check returns a :class:`CheckResult`; a check that cannot run because an earlier one
failed is SKIP. Nothing here needs the Linktor server.
"""

from __future__ import annotations

import asyncio
import enum
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2
from hashicorp.goplugin import grpc_controller_pb2, grpc_controller_pb2_grpc

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.conformance.samples import sample_content
from linktor.adapterkit.content import SENDABLE_KINDS, kind_name
from linktor.adapterkit.errors import Code
from linktor.adapterkit.launcher import LaunchError, LaunchOptions, PluginLog, PluginProcess, launch
from linktor.v1 import common_pb2, content_pb2, message_pb2

RPC_TIMEOUT = 10.0
SHUTDOWN_BOUND = 5.0
CONCURRENT_SENDS = 50
CHANNEL_NAME = "tenants/conformance/channels/ch_conformance"


class Outcome(enum.Enum):
    PASS = "pass"  # noqa: S105 - not a password
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    detail: str
    seconds: float = 0.0


@dataclass(frozen=True)
class ConformanceOptions:
    """What to run with. ``config``/``secrets`` form the channel configuration used for
    sends (default empty: the adapter must then refuse sends without calling a provider)."""

    config: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    recipient: str = "+15550100"
    start_timeout: float = 30.0
    env: Mapping[str, str] | None = None


@dataclass
class ConformanceReport:
    command: list[str]
    results: list[CheckResult] = field(default_factory=list)
    adapter: str = ""
    logs: list[PluginLog] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.outcome is not Outcome.FAIL for r in self.results)

    def result(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)


class _Failed(Exception):
    """A check's assertion failed; the message is the detail shown."""


def _expect(condition: bool, detail: str) -> None:
    if not condition:
        raise _Failed(detail)


def _error_text(error: adapter_pb2.SendError) -> str:
    retry = " retryable" if error.error.retryable else ""
    return f"{error.error.code or '(no code)'}{retry}: {error.error.message}"


def _check_send_shape(reply: adapter_pb2.SendResponse, what: str) -> None:
    has_id, has_error = bool(reply.provider_message_id), reply.HasField("error")
    _expect(
        has_id != has_error, f"{what}: exactly one of provider_message_id and error must be set"
    )
    if has_error:
        _expect(bool(reply.error.error.code), f"{what}: the error has no code")
        _expect(
            reply.error.retry_after.seconds >= 0 and reply.error.retry_after.nanos >= 0,
            f"{what}: negative retry_after",
        )
    else:
        _expect(
            reply.status in (message_pb2.MESSAGE_STATUS_SENT, message_pb2.MESSAGE_STATUS_DELIVERED),
            f"{what}: a sent message's status must be SENT or DELIVERED, got "
            f"{message_pb2.MessageStatus.Name(reply.status)}",
        )


class _Run:
    """One conformance run against one adapter process."""

    def __init__(self, command: list[str], options: ConformanceOptions) -> None:
        self.command = command
        self.options = options
        self.report = ConformanceReport(command)
        self.plugin: PluginProcess | None = None
        self.capabilities = adapter_pb2.GetCapabilitiesResponse()

    def channel(self, *, empty: bool = False) -> adapter_pb2.ChannelConfig:
        config = struct_pb2.Struct()
        if not empty:
            config.update(dict(self.options.config))
        return adapter_pb2.ChannelConfig(
            channel=CHANNEL_NAME,
            type=self.capabilities.channel_type,
            config=config,
            secrets={} if empty else dict(self.options.secrets),
            webhook_url="https://linktor.invalid/webhooks/ch_conformance",
        )

    def send_request(
        self, content: content_pb2.MessageContent, n: int, recipient: str | None = None
    ) -> adapter_pb2.SendRequest:
        return adapter_pb2.SendRequest(
            channel=self.channel(),
            message_id=f"{CHANNEL_NAME.rsplit('/', 2)[0]}/conversations/conformance/messages/m{n}",
            recipient=self.options.recipient if recipient is None else recipient,
            content=content,
            attempt=1,
        )

    async def check(self, name: str, body: Callable[[], Awaitable[str]]) -> bool:
        started = time.monotonic()
        try:
            detail = await body()
            outcome = Outcome.WARN if detail.startswith("warning: ") else Outcome.PASS
            detail = detail.removeprefix("warning: ")
        except _Failed as exc:
            outcome, detail = Outcome.FAIL, str(exc)
        except grpc.aio.AioRpcError as exc:
            outcome, detail = Outcome.FAIL, f"gRPC error {exc.code().name}: {exc.details()}"
        except TimeoutError:
            outcome, detail = Outcome.FAIL, "timed out"
        self.report.results.append(CheckResult(name, outcome, detail, time.monotonic() - started))
        return outcome is not Outcome.FAIL

    def skip(self, *names: str) -> None:
        for name in names:
            self.report.results.append(CheckResult(name, Outcome.SKIP, "an earlier check failed"))

    # ------------------------------------------------------------------ checks

    async def handshake(self) -> str:
        started = time.monotonic()
        try:
            self.plugin = await launch(
                self.command,
                LaunchOptions(
                    start_timeout=self.options.start_timeout,
                    env=self.options.env,
                    on_log=self.report.logs.append,
                ),
            )
        except LaunchError as exc:
            raise _Failed(str(exc)) from None
        elapsed = (time.monotonic() - started) * 1000
        return f"{self.plugin.handshake.format()} in {elapsed:.0f} ms"

    async def health(self) -> str:
        assert self.plugin is not None
        status = await self.plugin.health(RPC_TIMEOUT)
        _expect(status == health_pb2.HealthCheckResponse.SERVING, f"service 'plugin' is {status}")
        return "service 'plugin' is SERVING"

    async def declared(self) -> str:
        assert self.plugin is not None
        caps = await self.plugin.capabilities(RPC_TIMEOUT)
        self.capabilities = caps
        kinds = list(caps.capabilities.content_kinds)
        _expect(
            caps.channel_type != common_pb2.CHANNEL_TYPE_UNSPECIFIED, "channel_type is unspecified"
        )
        _expect(
            caps.channel_type in common_pb2.ChannelType.values(),
            f"unknown channel_type {caps.channel_type}",
        )
        _expect(bool(caps.adapter_name.strip()), "adapter_name is empty")
        _expect(bool(kinds), "no content kinds declared")
        _expect(
            all(k in SENDABLE_KINDS for k in kinds),
            f"unknown or unspecified content kinds in {kinds}",
        )
        _expect(len(set(kinds)) == len(kinds), "content kinds are declared twice")
        keys = [(f.secret, f.key) for f in caps.config_fields]
        _expect(all(key.strip() for _, key in keys), "a config field has an empty key")
        _expect(len(set(keys)) == len(keys), "a config field is declared twice")
        again = await self.plugin.capabilities(RPC_TIMEOUT)
        _expect(again == caps, "GetCapabilities answers differently when asked twice")
        name = common_pb2.ChannelType.Name(caps.channel_type).removeprefix("CHANNEL_TYPE_")
        self.report.adapter = f"{caps.adapter_name} {caps.adapter_version}".strip() + f" ({name})"
        return f"{self.report.adapter}: {len(kinds)} content kinds, {len(keys)} config fields"

    async def validate_empty(self) -> str:
        assert self.plugin is not None
        reply = await self.plugin.stub.ValidateConfig(
            adapter_pb2.ValidateConfigRequest(channel=self.channel(empty=True)), timeout=RPC_TIMEOUT
        )
        for v in reply.violations:
            prefix, _, key = v.field.partition(".")
            _expect(
                prefix in ("config", "secrets") and bool(key),
                f"violation path {v.field!r} is not config.<key> or secrets.<key>",
            )
            _expect(bool(v.description.strip()), f"violation of {v.field} has no description")
        paths = {v.field for v in reply.violations}
        required = [
            f"{'secrets' if f.secret else 'config'}.{f.key}"
            for f in self.capabilities.config_fields
            if f.required
        ]
        missing = [p for p in required if p not in paths]
        _expect(not missing, f"required fields accepted when empty: {', '.join(missing)}")
        if not reply.violations:
            return "no required fields; the empty configuration is valid"
        return f"{len(reply.violations)} violations: " + ", ".join(sorted(paths))

    async def validate_given(self) -> str:
        assert self.plugin is not None
        if not self.options.config and not self.options.secrets:
            return "warning: no --config/--secrets given: sends are only checked for refusals"
        reply = await self.plugin.stub.ValidateConfig(
            adapter_pb2.ValidateConfigRequest(channel=self.channel()), timeout=RPC_TIMEOUT
        )
        _expect(
            not reply.violations,
            "the given configuration is invalid: "
            + "; ".join(f"{v.field}: {v.description}" for v in reply.violations),
        )
        return "the given configuration is valid"

    async def send_declared(self) -> str:
        assert self.plugin is not None
        by_outcome: dict[str, list[str]] = {}
        for n, kind in enumerate(self.capabilities.capabilities.content_kinds):
            what = f"Send {kind_name(kind)}"
            request = self.send_request(sample_content(kind), n)
            reply = await self.plugin.stub.Send(request, timeout=RPC_TIMEOUT)
            _check_send_shape(reply, what)
            if reply.HasField("error"):
                _expect(
                    reply.error.error.code != Code.CONTENT_NOT_SUPPORTED,
                    f"{what}: declared but refused ({_error_text(reply.error)})",
                )
            outcome = reply.error.error.code if reply.HasField("error") else "sent"
            by_outcome.setdefault(outcome, []).append(kind_name(kind))
        return "; ".join(
            f"{outcome}: {len(kinds)} ({', '.join(kinds)})" for outcome, kinds in by_outcome.items()
        )

    async def send_undeclared(self) -> str:
        assert self.plugin is not None
        declared = set(self.capabilities.capabilities.content_kinds)
        undeclared = [k for k in SENDABLE_KINDS if k not in declared]
        if not undeclared:
            return "every content kind is declared"
        for n, kind in enumerate(undeclared, start=100):
            what = f"Send {kind_name(kind)} (undeclared)"
            reply = await self.plugin.stub.Send(
                self.send_request(sample_content(kind), n), timeout=RPC_TIMEOUT
            )
            _check_send_shape(reply, what)
            _expect(reply.HasField("error"), f"{what}: accepted")
            _expect(
                reply.error.error.code == Code.CONTENT_NOT_SUPPORTED
                and not reply.error.error.retryable,
                f"{what}: expected CONTENT_NOT_SUPPORTED, not retryable; "
                f"got {_error_text(reply.error)}",
            )
        return f"{len(undeclared)} undeclared kinds refused with CONTENT_NOT_SUPPORTED"

    async def send_invalid(self) -> str:
        assert self.plugin is not None
        empty = await self.plugin.stub.Send(
            self.send_request(content_pb2.MessageContent(), 200), timeout=RPC_TIMEOUT
        )
        _check_send_shape(empty, "Send with no content")
        _expect(
            empty.HasField("error") and not empty.error.error.retryable,
            "Send with no content: expected a permanent error",
        )
        first = self.capabilities.capabilities.content_kinds[0]
        nobody = await self.plugin.stub.Send(
            self.send_request(sample_content(first), 201, recipient=""), timeout=RPC_TIMEOUT
        )
        _check_send_shape(nobody, "Send to an empty recipient")
        _expect(
            nobody.HasField("error") and not nobody.error.error.retryable,
            "Send to an empty recipient: expected a permanent error",
        )
        return f"no content: {empty.error.error.code}; no recipient: {nobody.error.error.code}"

    async def concurrent_sends(self) -> str:
        assert self.plugin is not None
        first = self.capabilities.capabilities.content_kinds[0]
        stub = self.plugin.stub
        started = time.monotonic()
        replies = await asyncio.gather(
            *(
                stub.Send(self.send_request(sample_content(first), 300 + n), timeout=RPC_TIMEOUT)
                for n in range(CONCURRENT_SENDS)
            )
        )
        for reply in replies:
            _check_send_shape(reply, "concurrent Send")
        elapsed = (time.monotonic() - started) * 1000
        return f"{CONCURRENT_SENDS} concurrent sends answered in {elapsed:.0f} ms"

    async def webhook_garbage(self) -> str:
        assert self.plugin is not None
        requests = {
            "POST of random bytes": adapter_pb2.HttpRequest(
                method="POST",
                path="/webhooks/ch_conformance",
                body=os.urandom(256),
                headers=[adapter_pb2.Header(name="content-type", value="application/json")],
            ),
            "POST of an empty body": adapter_pb2.HttpRequest(
                method="POST", path="/webhooks/ch_conformance"
            ),
            "GET with a bogus verification": adapter_pb2.HttpRequest(
                method="GET",
                path="/webhooks/ch_conformance",
                query="hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1&challenge=1&verify_token=nope",
            ),
        }
        statuses = []
        for what, request in requests.items():
            reply = await self.plugin.stub.HandleWebhook(
                adapter_pb2.HandleWebhookRequest(channel=self.channel(), request=request),
                timeout=RPC_TIMEOUT,
            )
            status = reply.response.status
            _expect(400 <= status <= 499, f"{what}: expected a 4xx answer, got {status}")
            _expect(not reply.authenticated, f"{what}: reported as authenticated")
            _expect(not reply.events, f"{what}: produced {len(reply.events)} events")
            statuses.append(str(status))
        return "garbage answered " + "/".join(statuses) + ", not authenticated, no events"

    async def other_rpcs(self) -> str:
        assert self.plugin is not None
        stub, channel = self.plugin.stub, self.channel()
        await stub.MarkRead(
            adapter_pb2.MarkReadRequest(
                channel=channel, recipient=self.options.recipient, provider_message_id="x"
            ),
            timeout=RPC_TIMEOUT,
        )
        await stub.SendTyping(
            adapter_pb2.SendTypingRequest(
                channel=channel, recipient=self.options.recipient, typing=True
            ),
            timeout=RPC_TIMEOUT,
        )
        await stub.ListTemplates(
            adapter_pb2.ListTemplatesRequest(channel=channel), timeout=RPC_TIMEOUT
        )

        async def upload() -> Any:
            yield adapter_pb2.UploadMediaRequest(
                start=adapter_pb2.UploadMediaStart(
                    channel=channel,
                    metadata=adapter_pb2.MediaMetadata(
                        type=content_pb2.MEDIA_TYPE_IMAGE,
                        mime_type="image/png",
                        filename="a.png",
                        size_bytes=8,
                    ),
                )
            )
            yield adapter_pb2.UploadMediaRequest(chunk=b"\x89PNG\r\n\x1a\n")

        uploaded = await stub.UploadMedia(upload(), timeout=RPC_TIMEOUT)
        _expect(
            bool(uploaded.provider_media_id) != uploaded.HasField("error"),
            "UploadMedia: exactly one of provider_media_id and error must be set",
        )
        try:
            async for _ in stub.DownloadMedia(
                adapter_pb2.DownloadMediaRequest(
                    channel=channel, provider_media_id="conformance-missing"
                ),
                timeout=RPC_TIMEOUT,
            ):
                pass
        except grpc.aio.AioRpcError as exc:
            allowed = {
                grpc.StatusCode.UNIMPLEMENTED,
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.INVALID_ARGUMENT,
            }
            _expect(exc.code() in allowed, f"DownloadMedia of an unknown id: {exc.code().name}")
        empty = self.channel(empty=True)
        validation = await stub.ValidateConfig(
            adapter_pb2.ValidateConfigRequest(channel=empty), timeout=RPC_TIMEOUT
        )
        checked = await stub.CheckChannel(
            adapter_pb2.CheckChannelRequest(channel=empty), timeout=RPC_TIMEOUT
        )
        if validation.violations:
            _expect(
                not checked.ok, "CheckChannel reports ok for a configuration ValidateConfig rejects"
            )
        return (
            "MarkRead, SendTyping, ListTemplates, UploadMedia, DownloadMedia, CheckChannel answered"
        )

    async def shutdown(self) -> str:
        assert self.plugin is not None
        started = time.monotonic()
        controller = grpc_controller_pb2_grpc.GRPCControllerStub(self.plugin.channel)
        try:
            await controller.Shutdown(grpc_controller_pb2.Empty(), timeout=SHUTDOWN_BOUND)
        except grpc.aio.AioRpcError as exc:
            # A Go plugin stops its server inside the call: the connection closing is fine.
            _expect(
                exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED),
                f"Shutdown failed: {exc.code().name}",
            )
        try:
            code = await asyncio.wait_for(self.plugin.wait(), SHUTDOWN_BOUND)
        except TimeoutError:
            raise _Failed(f"still running {SHUTDOWN_BOUND:g} s after Shutdown") from None
        _expect(code == 0, f"exited with status {code} after Shutdown")
        return f"exited 0 in {(time.monotonic() - started) * 1000:.0f} ms"


async def run_conformance(
    command: list[str], options: ConformanceOptions | None = None
) -> ConformanceReport:
    """Run every check against the adapter started by ``command``."""
    run = _Run(command, options or ConformanceOptions())
    try:
        if not await run.check("handshake", run.handshake):
            run.skip("health", "capabilities")
            return run.report
        if not (
            await run.check("health", run.health) and await run.check("capabilities", run.declared)
        ):
            return run.report
        for name, body in (
            ("validate empty config", run.validate_empty),
            ("validate given config", run.validate_given),
            ("send declared kinds", run.send_declared),
            ("refuse undeclared kinds", run.send_undeclared),
            ("refuse invalid sends", run.send_invalid),
            ("concurrent sends", run.concurrent_sends),
            ("webhook garbage", run.webhook_garbage),
            ("other RPCs", run.other_rpcs),
        ):
            await run.check(name, body)
        await run.check("graceful shutdown", run.shutdown)
    finally:
        if run.plugin is not None:
            await run.plugin.stop(shutdown_timeout=1, exit_timeout=1, term_timeout=1)
    return run.report
