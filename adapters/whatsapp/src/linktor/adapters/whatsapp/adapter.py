"""The WhatsApp (Meta Cloud API) channel adapter, on the adapter kit's BaseAdapter.

Provider failures are data (SendError in the response). DownloadMedia and ListTemplates
have no error field; there the gRPC status code says whether retrying can help
(RESOURCE_EXHAUSTED, UNAVAILABLE) or not (FAILED_PRECONDITION, NOT_FOUND ...). The
adapter keeps no platform state: each call carries the channel configuration.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import httpx

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import BaseAdapter, rejected
from linktor.adapterkit.base import MEDIA_CHUNK_BYTES, Context
from linktor.adapterkit.http import create_http_client
from linktor.adapters.whatsapp import errors, media
from linktor.adapters.whatsapp.capabilities import ADAPTER_VERSION, capabilities_response
from linktor.adapters.whatsapp.config import InvalidConfigError, WhatsAppConfig, parse_config
from linktor.adapters.whatsapp.content_checks import ContentViolation, JsonObject
from linktor.adapters.whatsapp.graph_client import GraphApiError, GraphClient, GraphTransportError
from linktor.adapters.whatsapp.outbound import RecipientViolation, message_body
from linktor.adapters.whatsapp.templates import list_templates
from linktor.adapters.whatsapp.webhook import handle_webhook
from linktor.v1 import message_pb2

_log = logging.getLogger(__name__)

# Meta answers in well under a second normally; allow for slow media and template pages.
GRAPH_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=60.0, pool=5.0)
_USER_AGENT = f"linktor-whatsapp/{ADAPTER_VERSION}"
# Meta's limit for biz_opaque_callback_data.
_CALLBACK_DATA_MAX = 512


def provider_error(exc: GraphApiError | GraphTransportError) -> adapter_pb2.SendError:
    """The normalized error for a failed Graph API call."""
    if isinstance(exc, GraphTransportError):
        return errors.transport_error(str(exc), timeout=exc.timeout)
    return errors.send_error_from_graph(
        code=exc.code,
        http_status=exc.http_status,
        provider_message=exc.provider_message,
        details=exc.details,
        transient=exc.transient,
        retry_after_seconds=exc.retry_after_seconds,
    )


def grpc_code(error: adapter_pb2.SendError) -> grpc.StatusCode:
    """The gRPC status for calls without an error field."""
    if error.error.code == errors.RATE_LIMITED:
        return grpc.StatusCode.RESOURCE_EXHAUSTED
    if error.error.retryable:
        return grpc.StatusCode.UNAVAILABLE
    if error.error.code == errors.INVALID_REQUEST:
        return grpc.StatusCode.NOT_FOUND
    return grpc.StatusCode.FAILED_PRECONDITION


def describe(error: adapter_pb2.SendError) -> str:
    """One line for people: our code and reason, then Meta's code and text."""
    e = error.error
    provider = f" [Meta {e.provider_code}: {e.provider_message}]" if e.provider_code else ""
    return f"{e.code}: {e.message}{provider}"


class WhatsAppAdapter(BaseAdapter):
    """Serves every ChannelAdapter RPC for WhatsApp channels."""

    def __init__(self) -> None:
        # One connection pool for every channel; tokens travel per request, never logged.
        self._http = create_http_client(timeout=GRAPH_TIMEOUT, user_agent=_USER_AGENT)
        self._media_http = create_http_client(
            timeout=GRAPH_TIMEOUT, user_agent=_USER_AGENT, block_private_addresses=True
        )

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._media_http.aclose()

    def _client(self, config: WhatsAppConfig) -> GraphClient:
        return GraphClient(self._http, config, media_http=self._media_http)

    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        return capabilities_response()

    async def validate_config(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ValidateConfigResponse:
        try:
            config = parse_config(channel)
        except InvalidConfigError as exc:
            return adapter_pb2.ValidateConfigResponse(violations=exc.violations)
        return adapter_pb2.ValidateConfigResponse(normalized_config=config.normalized())

    async def send(self, request: adapter_pb2.SendRequest) -> adapter_pb2.SendResponse:
        try:
            config = parse_config(request.channel)
        except InvalidConfigError as exc:
            return adapter_pb2.SendResponse(error=errors.invalid_config(str(exc)))
        try:
            body = message_body(
                request.recipient, request.content, request.reply_to_provider_message_id
            )
        except RecipientViolation as exc:
            error = errors.invalid_content(exc.field, exc.problem, errors.INVALID_RECIPIENT)
            return adapter_pb2.SendResponse(error=error)
        except ContentViolation as exc:
            return adapter_pb2.SendResponse(error=errors.invalid_content(exc.field, exc.problem))
        if request.message_id and len(request.message_id) <= _CALLBACK_DATA_MAX:
            # Meta has no idempotency key; it echoes this value in every status webhook of
            # the message, which lets the core correlate statuses with its own message.
            body["biz_opaque_callback_data"] = request.message_id
        try:
            answer = await self._client(config).send_message(body)
        except (GraphApiError, GraphTransportError) as exc:
            error = provider_error(exc)
            _log.info("send refused by Meta: %s (attempt %d)", describe(error), request.attempt)
            return adapter_pb2.SendResponse(error=error)
        messages = answer.get("messages")
        if not (isinstance(messages, list) and messages and isinstance(messages[0], dict)):
            error = errors.send_error_from_graph(
                code=None, http_status=502, provider_message="Meta accepted without a message id"
            )
            return adapter_pb2.SendResponse(error=error)
        return adapter_pb2.SendResponse(
            provider_message_id=str(messages[0].get("id", "")),
            status=message_pb2.MESSAGE_STATUS_SENT,
        )

    async def handle_webhook(
        self, channel: adapter_pb2.ChannelConfig, request: adapter_pb2.HttpRequest
    ) -> adapter_pb2.HandleWebhookResponse:
        try:
            config = parse_config(channel)
        except InvalidConfigError:
            # Without the app secret and verify token nothing can be authenticated.
            _log.warning("webhook for a channel without a valid configuration refused")
            return rejected(403, "channel is not configured to receive webhooks")
        return handle_webhook(config, request)

    async def upload_media(
        self, start: adapter_pb2.UploadMediaStart, data: bytes
    ) -> adapter_pb2.UploadMediaResponse:
        try:
            config = parse_config(start.channel)
        except InvalidConfigError as exc:
            return adapter_pb2.UploadMediaResponse(error=errors.invalid_config(str(exc)))
        try:
            media.check_upload(start, data)
        except ContentViolation as exc:
            return adapter_pb2.UploadMediaResponse(
                error=errors.invalid_content(exc.field, exc.problem)
            )
        try:
            return await media.upload(self._client(config), start, data)
        except (GraphApiError, GraphTransportError) as exc:
            return adapter_pb2.UploadMediaResponse(error=provider_error(exc))

    async def DownloadMedia(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.DownloadMediaRequest, context: Context
    ) -> AsyncIterator[adapter_pb2.DownloadMediaResponse]:
        # Overridden (not the download_media hook) to answer Meta's errors with status
        # codes that tell the core whether to retry.
        try:
            config = parse_config(request.channel)
        except InvalidConfigError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        if not request.provider_media_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "provider_media_id is required")
        client = self._client(config)
        try:
            metadata, url, sha256 = await media.media_metadata(client, request.provider_media_id)
            yield adapter_pb2.DownloadMediaResponse(metadata=metadata)
            async for chunk in media.media_bytes(client, url, sha256):
                for offset in range(0, len(chunk), MEDIA_CHUNK_BYTES):
                    part = chunk[offset : offset + MEDIA_CHUNK_BYTES]
                    yield adapter_pb2.DownloadMediaResponse(chunk=part)
        except (GraphApiError, GraphTransportError) as exc:
            error = provider_error(exc)
            await context.abort(grpc_code(error), describe(error))
        except media.MediaIntegrityError as exc:
            await context.abort(grpc.StatusCode.DATA_LOSS, str(exc))

    async def mark_read(self, request: adapter_pb2.MarkReadRequest) -> adapter_pb2.MarkReadResponse:
        if not request.provider_message_id:
            return adapter_pb2.MarkReadResponse(
                error=errors.invalid_content("provider_message_id", "is required")
            )
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": request.provider_message_id,
        }
        return adapter_pb2.MarkReadResponse(error=await self._status_call(request.channel, body))

    async def send_typing(
        self, request: adapter_pb2.SendTypingRequest
    ) -> adapter_pb2.SendTypingResponse:
        if not request.typing:
            # WhatsApp hides the indicator by itself when the business answers or after
            # 25 seconds; there is nothing to call.
            return adapter_pb2.SendTypingResponse()
        if not request.provider_message_id:
            return adapter_pb2.SendTypingResponse(
                error=errors.invalid_content(
                    "provider_message_id",
                    "is required: WhatsApp shows typing in answer to a received message",
                )
            )
        # Meta's typing indicator rides on the mark-as-read call (and marks the message read).
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": request.provider_message_id,
            "typing_indicator": {"type": "text"},
        }
        return adapter_pb2.SendTypingResponse(error=await self._status_call(request.channel, body))

    async def _status_call(
        self, channel: adapter_pb2.ChannelConfig, body: JsonObject
    ) -> adapter_pb2.SendError | None:
        try:
            config = parse_config(channel)
        except InvalidConfigError as exc:
            return errors.invalid_config(str(exc))
        try:
            await self._client(config).send_message(body)
        except (GraphApiError, GraphTransportError) as exc:
            return provider_error(exc)
        return None

    async def check_channel(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.CheckChannelResponse:
        try:
            config = parse_config(channel)
        except InvalidConfigError as exc:
            return adapter_pb2.CheckChannelResponse(ok=False, message=str(exc))
        try:
            number = await self._client(config).phone_number()
        except (GraphApiError, GraphTransportError) as exc:
            return adapter_pb2.CheckChannelResponse(ok=False, message=describe(provider_error(exc)))
        message = (
            f"{number.get('verified_name', '?')} ({number.get('display_phone_number', '?')}), "
            f"quality rating {number.get('quality_rating', 'UNKNOWN')}"
        )
        return adapter_pb2.CheckChannelResponse(ok=True, message=message)

    async def ListTemplates(  # noqa: N802 - gRPC method name
        self, request: adapter_pb2.ListTemplatesRequest, context: Context
    ) -> adapter_pb2.ListTemplatesResponse:
        # Overridden (not the list_templates hook) so that Meta's failures are gRPC errors:
        # an empty answer would tell the core's template sync that every template is gone.
        try:
            config = parse_config(request.channel)
        except InvalidConfigError:
            # The core stores no channel whose configuration ValidateConfig refused, so this
            # is a probe (the conformance suite's): a channel without a WABA has no templates.
            return adapter_pb2.ListTemplatesResponse()
        try:
            templates = await list_templates(self._client(config))
        except (GraphApiError, GraphTransportError) as exc:
            error = provider_error(exc)
            await context.abort(grpc_code(error), describe(error))
        return adapter_pb2.ListTemplatesResponse(templates=templates)
