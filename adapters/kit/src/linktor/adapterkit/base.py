"""BaseAdapter: the ChannelAdapter gRPC methods, implemented once, over small async hooks.

An adapter subclasses it, implements :meth:`BaseAdapter.capabilities` and the hooks its
channel supports (``send``, ``handle_webhook`` ...), and calls ``serve(MyAdapter())``. What
the base class does so each adapter need not:

- answers every RPC: a hook not overridden returns a "not supported" error *in the
  response* (never UNIMPLEMENTED), except DownloadMedia whose response has no error field;
- refuses, before ``send`` is called, content kinds the adapter did not declare
  (CONTENT_NOT_SUPPORTED), content that has no kind, and an empty recipient;
- validates configuration against the declared ``config_fields`` by default;
- turns exceptions from hooks into normalized errors (timeouts and connection failures are
  retryable; a bug is ADAPTER_ERROR, logged with its traceback) and webhook parsing errors
  into 4xx answers, so one bad request never becomes a gRPC error or a crash;
- normalizes send results: exactly one of provider_message_id and error, status SENT by
  default.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf import duration_pb2

from linktor.adapter.v1 import adapter_pb2, adapter_pb2_grpc
from linktor.adapterkit.config import check_declared_fields
from linktor.adapterkit.content import content_kind, kind_name
from linktor.adapterkit.errors import Code, failed, not_supported, send_error
from linktor.adapterkit.webhooks import WebhookRejected, rejected
from linktor.v1 import message_pb2

log = logging.getLogger("linktor.adapterkit")

Context = grpc.aio.ServicerContext[Any, Any]
MEDIA_CHUNK_BYTES = 1024 * 1024


class MediaNotSupportedError(Exception):
    """Raised by ``download_media`` when the channel has no downloadable media."""


def error_for_exception(exc: BaseException, what: str) -> adapter_pb2.SendError:
    """A normalized error for an exception raised while talking to the provider."""
    # httpx costs ~0.4 s to import; adapters that never imported it cannot raise its errors.
    httpx: Any = sys.modules.get("httpx")
    kit_http: Any = sys.modules.get("linktor.adapterkit.http")
    if kit_http is not None and isinstance(exc, kit_http.BlockedAddressError):
        return send_error(Code.BLOCKED_ADDRESS, str(exc))
    if httpx is not None and isinstance(exc, httpx.TimeoutException):
        return send_error(
            Code.TIMEOUT, f"the provider did not answer in time ({what})", retryable=True
        )
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return send_error(
            Code.PROVIDER_UNAVAILABLE, f"cannot reach the provider ({what}): {exc}", retryable=True
        )
    log.exception("%s failed", what, exc_info=exc)
    return send_error(
        Code.ADAPTER_ERROR, f"{what} failed in the adapter: {type(exc).__name__}", retryable=True
    )


class BaseAdapter(adapter_pb2_grpc.ChannelAdapterServicer):
    """Subclass me. Override :meth:`capabilities` and the hooks your channel supports."""

    #: Upper bound for UploadMedia bodies collected for :meth:`upload_media`.
    max_upload_bytes = 100 * 1024 * 1024

    _capabilities: adapter_pb2.GetCapabilitiesResponse | None = None
    _declared_kinds: frozenset[int] = frozenset()

    # ------------------------------------------------------------------ hooks

    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        """What the adapter serves: channel type, name, version, capabilities, config fields.

        Called once and cached; must not depend on any channel's configuration.
        """
        raise NotImplementedError("an adapter must override capabilities()")

    async def validate_config(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ValidateConfigResponse:
        """Default: required declared fields present, defaults filled, unknown keys flagged.

        Override to add rules; start from ``check_declared_fields(channel, fields)``.
        """
        return check_declared_fields(channel, self.declared.config_fields).response()

    async def send(self, request: adapter_pb2.SendRequest) -> adapter_pb2.SendResponse:
        """Send one message (content kind already checked against the declaration)."""
        return adapter_pb2.SendResponse(error=not_supported("sending"))

    async def handle_webhook(
        self, channel: adapter_pb2.ChannelConfig, request: adapter_pb2.HttpRequest
    ) -> adapter_pb2.HandleWebhookResponse:
        """Verify and parse one provider request. Raise WebhookRejected for bad input."""
        return rejected(404, "this channel type does not receive webhooks")

    async def upload_media(
        self, start: adapter_pb2.UploadMediaStart, data: bytes
    ) -> adapter_pb2.UploadMediaResponse:
        """Upload media (the whole body, at most ``max_upload_bytes``)."""
        return adapter_pb2.UploadMediaResponse(error=not_supported("uploading media"))

    async def download_media(
        self, request: adapter_pb2.DownloadMediaRequest
    ) -> tuple[adapter_pb2.MediaMetadata, AsyncIterator[bytes]]:
        """Return the media's metadata and its bytes (any chunking; re-chunked to 1 MiB)."""
        raise MediaNotSupportedError("this channel type has no media to download")

    async def mark_read(self, request: adapter_pb2.MarkReadRequest) -> adapter_pb2.MarkReadResponse:
        return adapter_pb2.MarkReadResponse(error=not_supported("read receipts"))

    async def send_typing(
        self, request: adapter_pb2.SendTypingRequest
    ) -> adapter_pb2.SendTypingResponse:
        return adapter_pb2.SendTypingResponse(error=not_supported("typing indicators"))

    async def check_channel(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.CheckChannelResponse:
        """Default: the configuration is valid (nothing is asked of the provider)."""
        result = await self.validate_config(channel)
        if result.violations:
            first = result.violations[0]
            return adapter_pb2.CheckChannelResponse(
                ok=False, message=f"{first.field}: {first.description}"
            )
        return adapter_pb2.CheckChannelResponse(
            ok=True, message="configuration is valid (the provider was not contacted)"
        )

    async def list_templates(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ListTemplatesResponse:
        return adapter_pb2.ListTemplatesResponse()

    async def aclose(self) -> None:
        """Release resources (HTTP clients) when the process stops."""

    # ------------------------------------------------------------------ helpers

    @property
    def declared(self) -> adapter_pb2.GetCapabilitiesResponse:
        """The cached result of :meth:`capabilities`."""
        if self._capabilities is None:
            self._capabilities = self.capabilities()
            self._declared_kinds = frozenset(self._capabilities.capabilities.content_kinds)
        return self._capabilities

    @property
    def declared_kinds(self) -> frozenset[int]:
        """The declared content kinds, as a set (checked on every Send)."""
        if self._capabilities is None:
            _ = self.declared
        return self._declared_kinds

    def refusal(self, request: adapter_pb2.SendRequest) -> adapter_pb2.SendResponse | None:
        """Why the message cannot be sent without asking the provider, if it cannot."""
        kind = content_kind(request.content)
        if kind == 0:
            return failed(Code.INVALID_CONTENT, "the message has no content this channel can send")
        if kind not in self.declared_kinds:
            return failed(
                Code.CONTENT_NOT_SUPPORTED,
                f"{kind_name(kind)} messages are not supported by this channel",
            )
        if not request.recipient.strip():
            return failed(Code.INVALID_RECIPIENT, "the recipient is empty")
        return None

    # ------------------------------------------------------------------ RPCs

    async def GetCapabilities(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.GetCapabilitiesRequest, context: Context
    ) -> adapter_pb2.GetCapabilitiesResponse:
        return self.declared

    async def ValidateConfig(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.ValidateConfigRequest, context: Context
    ) -> adapter_pb2.ValidateConfigResponse:
        return await self.validate_config(request.channel)

    async def Send(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.SendRequest, context: Context
    ) -> adapter_pb2.SendResponse:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        try:
            result = await self.send(request)
        except Exception as exc:
            return adapter_pb2.SendResponse(error=error_for_exception(exc, "send"))
        return _normalized(result)

    async def HandleWebhook(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.HandleWebhookRequest, context: Context
    ) -> adapter_pb2.HandleWebhookResponse:
        try:
            return await self.handle_webhook(request.channel, request.request)
        except WebhookRejected as exc:
            return rejected(exc.status, exc.message, authenticated=exc.authenticated)
        except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
            # The payload did not have the shape the parser expected: the sender's problem.
            log.warning("malformed webhook: %s: %s", type(exc).__name__, exc)
            return rejected(400, "malformed webhook payload")
        except Exception:
            log.exception("webhook handling failed")
            return rejected(500, "webhook handling failed")

    async def UploadMedia(  # noqa: N802 - gRPC method name
        self, request_iterator: AsyncIterator[adapter_pb2.UploadMediaRequest], context: Context
    ) -> adapter_pb2.UploadMediaResponse:
        start: adapter_pb2.UploadMediaStart | None = None
        data = bytearray()
        async for part in request_iterator:
            if part.HasField("start"):
                start = part.start
            elif len(data) + len(part.chunk) > self.max_upload_bytes:
                return adapter_pb2.UploadMediaResponse(
                    error=send_error(
                        Code.INVALID_CONTENT, f"media larger than {self.max_upload_bytes} bytes"
                    )
                )
            else:
                data += part.chunk
        if start is None:
            return adapter_pb2.UploadMediaResponse(
                error=send_error(Code.INVALID_CONTENT, "the first message must carry `start`")
            )
        try:
            return await self.upload_media(start, bytes(data))
        except Exception as exc:
            return adapter_pb2.UploadMediaResponse(error=error_for_exception(exc, "media upload"))

    async def DownloadMedia(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.DownloadMediaRequest, context: Context
    ) -> AsyncIterator[adapter_pb2.DownloadMediaResponse]:
        try:
            metadata, chunks = await self.download_media(request)
        except MediaNotSupportedError as exc:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, str(exc))
        yield adapter_pb2.DownloadMediaResponse(metadata=metadata)
        async for chunk in chunks:
            for offset in range(0, len(chunk), MEDIA_CHUNK_BYTES):
                yield adapter_pb2.DownloadMediaResponse(
                    chunk=chunk[offset : offset + MEDIA_CHUNK_BYTES]
                )

    async def MarkRead(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.MarkReadRequest, context: Context
    ) -> adapter_pb2.MarkReadResponse:
        try:
            return await self.mark_read(request)
        except Exception as exc:
            return adapter_pb2.MarkReadResponse(error=error_for_exception(exc, "mark read"))

    async def SendTyping(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.SendTypingRequest, context: Context
    ) -> adapter_pb2.SendTypingResponse:
        try:
            return await self.send_typing(request)
        except Exception as exc:
            return adapter_pb2.SendTypingResponse(error=error_for_exception(exc, "typing"))

    async def CheckChannel(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.CheckChannelRequest, context: Context
    ) -> adapter_pb2.CheckChannelResponse:
        started = time.perf_counter()
        try:
            result = await self.check_channel(request.channel)
        except Exception as exc:
            error = error_for_exception(exc, "channel check")
            result = adapter_pb2.CheckChannelResponse(ok=False, message=error.error.message)
        if not result.HasField("latency"):
            result.latency.CopyFrom(_elapsed(started))
        return result

    async def ListTemplates(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.ListTemplatesRequest, context: Context
    ) -> adapter_pb2.ListTemplatesResponse:
        return await self.list_templates(request.channel)


def _normalized(result: adapter_pb2.SendResponse) -> adapter_pb2.SendResponse:
    has_id, has_error = bool(result.provider_message_id), result.HasField("error")
    if has_id and has_error:
        result.ClearField("error")
    elif not has_id and not has_error:
        log.error("send returned neither provider_message_id nor error")
        return failed(
            Code.ADAPTER_ERROR, "the adapter returned no provider message id", retryable=True
        )
    elif has_error and not result.error.error.code:
        result.error.error.code = Code.PROVIDER_ERROR
    if has_id and result.status == message_pb2.MESSAGE_STATUS_UNSPECIFIED:
        result.status = message_pb2.MESSAGE_STATUS_SENT
    return result


def _elapsed(started: float) -> duration_pb2.Duration:
    elapsed = time.perf_counter() - started
    return duration_pb2.Duration(seconds=int(elapsed), nanos=int((elapsed % 1) * 1e9))
