"""Provider webhook ingress: ``/webhooks/{token}`` (DESIGN §4, issue 5).

The token in the path is the channel's unguessable webhook token. The raw request goes to the
channel's adapter, which verifies it (signature, verification handshake) and parses it; what it
parsed is persisted (outbox, group-committed across concurrent webhooks) BEFORE the adapter's
answer is returned, so nothing acknowledged to the provider is lost; processing is
asynchronous. Unknown channel: 404; disabled channel: 403; adapter unavailable or persistence
failing: 503 so that the provider retries; failed signature: the adapter's answer (401/403).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import cast

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from linktor.adapter.v1 import adapter_pb2
from linktor.server.infra.batching import Batcher
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.writer import OutboxWriter
from linktor.server.logs import get_logger
from linktor.server.messaging.app.channels import ChannelLookup
from linktor.server.messaging.app.delivery import channel_type_number
from linktor.server.messaging.app.inbound_queue import InboundBatch, inbound_rows
from linktor.server.plugins.port import AdapterProvider
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import DomainError

log = get_logger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
ADAPTER_TIMEOUT_SECONDS = 10.0


class InboundPersister:
    """Writes inbound batches to the outbox, many concurrent webhooks per transaction, their
    events merged into one row per channel partition (inbound_queue)."""

    def __init__(
        self, uow: Callable[[], SqlUnitOfWork], clock: Clock, on_commit: Callable[[], None]
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._on_commit = on_commit
        self._batcher: Batcher[InboundBatch, None] = Batcher(self._write)

    async def persist(self, batch: InboundBatch) -> None:
        await self._batcher.submit(batch)

    async def _write(self, batches: Sequence[InboundBatch]) -> list[None]:
        async with self._uow() as uow:
            outbox = OutboxWriter(uow.connection)
            for row in inbound_rows(batches, self._clock):
                outbox.add(row)
            await outbox.flush()
            await uow.commit()
        self._on_commit()
        return [None] * len(batches)


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def webhook_routes(
    channels: ChannelLookup, adapters: AdapterProvider, persister: InboundPersister
) -> list[Route]:
    async def webhook(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            channel = await channels.by_webhook_token(token)
        except DomainError as exc:
            log.warning("webhook channel lookup failed", error=exc.message)
            return _problem(503, "the channel is not available right now; retry later")
        if channel is None:
            log.warning("webhook for an unknown channel", path=request.url.path[:32] + "...")
            return _problem(404, "unknown webhook URL")
        if not channel.accepts_webhooks:
            log.warning("webhook for a disabled channel", channel=channel.id)
            return _problem(403, "this channel is disabled")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            log.warning("webhook body too large", channel=channel.id, size=len(body))
            return _problem(413, "request body too large")
        raw = adapter_pb2.HttpRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers=[
                adapter_pb2.Header(name=k.decode("latin-1").lower(), value=v.decode("latin-1"))
                for k, v in request.headers.raw
            ],
            body=body,
            remote_address=request.client.host if request.client else "",
        )
        try:
            adapter = await adapters.acquire(
                channel_type_number(channel), address=channel.adapter_address
            )
            call = adapter.stub.HandleWebhook(
                adapter_pb2.HandleWebhookRequest(channel=channel.config, request=raw),
                timeout=ADAPTER_TIMEOUT_SECONDS,
            )
            answer = await cast(Awaitable[adapter_pb2.HandleWebhookResponse], call)
        except (grpc.aio.AioRpcError, DomainError) as exc:
            log.warning("webhook adapter unavailable", channel=channel.id, error=str(exc)[:200])
            return _problem(503, "the channel's adapter is unavailable; retry later")
        if not answer.authenticated:
            log.warning(
                "webhook rejected by the adapter",
                channel=channel.id,
                status=answer.response.status,
            )
        elif answer.events:
            try:
                await persister.persist(
                    InboundBatch(channel.tenant_id, channel.id, list(answer.events))
                )
            except Exception as exc:
                log.error("webhook not persisted", channel=channel.id, error=str(exc)[:200])
                return _problem(503, "could not store the webhook; retry later")
        headers = {h.name: h.value for h in answer.response.headers}
        return Response(
            answer.response.body, status_code=answer.response.status or 200, headers=headers
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [Route("/webhooks/{token}", webhook, methods=methods)]
