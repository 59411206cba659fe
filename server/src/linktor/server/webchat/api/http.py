"""The visitor HTTP endpoints: widget settings, sessions, attachments, and /widget.js.

    GET  /widget.js                               the embeddable widget (static, cached)
    GET  /webchat/{key}/config                    public widget settings
    POST /webchat/{key}/sessions                  a new (or renewed) visitor session token
    POST /webchat/{key}/attachments               upload (Authorization: Bearer <token>)
    GET  /webchat/{key}/attachments/{id}?token=   download (visitor token of the channel)

Every answer to a browser carries the CORS headers of the channel's allowed origins; a
request from another origin gets 403 without them. Errors are ``{"error": {"code",
"message"}}`` and never say whether a channel exists beyond "not found".
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from linktor.server.infra.cache.port import RateLimiter
from linktor.server.logs import get_logger
from linktor.server.shared.errors import InvalidArgument, Unavailable
from linktor.server.webchat.api.origins import cors_headers, origin_allowed
from linktor.server.webchat.app.ports import WebchatChannel, WebchatChannels
from linktor.server.webchat.app.uploads import TooLarge, UnsupportedFile, VisitorUploads
from linktor.server.webchat.domain.text import clean_name
from linktor.server.webchat.domain.tokens import (
    VisitorSession,
    VisitorTokens,
    channel_key_hash,
    new_visitor_id,
)
from linktor.server.webchat.limits import MAX_SESSION_BODY_BYTES, SESSIONS_PER_ADDRESS_PER_MINUTE

log = get_logger(__name__)

WIDGET_FILE = "widget.js"
_SECURE = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={**_SECURE, **(headers or {})},
    )


def widget_bundle() -> bytes | None:
    bundle = resources.files("linktor.server.webchat") / "static" / WIDGET_FILE
    return bundle.read_bytes() if bundle.is_file() else None


def bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@dataclass
class VisitorHttp:
    channels: WebchatChannels
    tokens: VisitorTokens
    uploads: VisitorUploads
    rate_limiter: RateLimiter

    async def _channel(
        self, request: Request, methods: str
    ) -> tuple[WebchatChannel | None, dict[str, str], Response | None]:
        """The channel and the CORS headers to answer with, or the refusal."""
        try:
            channel = await self.channels.by_key(request.path_params["key"])
        except Unavailable:
            return None, {}, error(503, "UNAVAILABLE", "the chat is starting; retry shortly")
        if channel is None:
            return None, {}, error(404, "NOT_FOUND", "unknown chat")
        origin = request.headers.get("origin")
        if not origin_allowed(channel, origin):
            log.info("web chat request from a refused origin", channel=channel.channel_id)
            return None, {}, error(403, "ORIGIN_NOT_ALLOWED", "this site may not use this chat")
        headers = cors_headers(origin, methods)
        if not channel.enabled:
            return None, headers, error(403, "DISABLED", "this chat is closed", headers)
        return channel, headers, None

    async def preflight(self, request: Request) -> Response:
        _channel, headers, refused = await self._channel(request, "GET, POST")
        return refused or Response(status_code=204, headers=headers)

    async def config(self, request: Request) -> Response:
        channel, headers, refused = await self._channel(request, "GET")
        if refused or channel is None:
            return refused or error(404, "NOT_FOUND", "unknown chat")
        return JSONResponse(
            channel.settings.public(),
            headers={
                **headers,
                "cache-control": "public, max-age=60",
                "x-content-type-options": "nosniff",
            },
        )

    async def sessions(self, request: Request) -> Response:
        channel, headers, refused = await self._channel(request, "POST")
        if refused or channel is None:
            return refused or error(404, "NOT_FOUND", "unknown chat")
        address = request.client.host if request.client else "unknown"
        rate = SESSIONS_PER_ADDRESS_PER_MINUTE
        decision = await self.rate_limiter.acquire(
            f"webchat:sessions:{channel.channel_id}:{address}", rate=rate / 60, burst=rate
        )
        body = await request.body()
        if not decision.allowed:
            retry = str(max(1, int(decision.retry_after + 0.999)))
            return error(
                429, "RATE_LIMITED", "too many new sessions", {**headers, "retry-after": retry}
            )
        if len(body) > MAX_SESSION_BODY_BYTES:
            return error(413, "TOO_LARGE", "request body too large", headers)
        try:
            fields: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            return error(400, "INVALID_JSON", "the body must be a JSON object", headers)
        if not isinstance(fields, dict):
            return error(400, "INVALID_JSON", "the body must be a JSON object", headers)
        name, previous = fields.get("name", ""), fields.get("token", "")
        if not isinstance(name, str) or not isinstance(previous, str):
            return error(400, "INVALID_FIELD", "`name` and `token` are strings", headers)
        now = int(time.time())
        old = self.tokens.verify(previous, channel_key=channel.key, now=now) if previous else None
        session = VisitorSession(
            visitor_id=old.visitor_id if old else new_visitor_id(),
            display_name=clean_name(name) or (old.display_name if old else ""),
            channel_key_hash=channel_key_hash(channel.key),
            expire_at=now + channel.settings.session_ttl_days * 86_400,
        )
        return JSONResponse(
            {
                "token": self.tokens.issue(session),
                "visitor": session.visitor_id,
                "expire_time": session.expire_at,
                "renewed": old is not None,
                "settings": channel.settings.public(),
            },
            status_code=200 if old else 201,
            headers={**headers, **_SECURE},
        )

    async def upload(self, request: Request) -> Response:
        channel, headers, refused = await self._channel(request, "POST")
        if refused or channel is None:
            return refused or error(404, "NOT_FOUND", "unknown chat")
        session = self.tokens.verify(bearer(request), channel_key=channel.key, now=int(time.time()))
        if session is None:
            return error(401, "UNAUTHENTICATED", "a valid visitor session is required", headers)
        decision = await self.rate_limiter.acquire(
            f"webchat:uploads:{channel.channel_id}:{session.visitor_id}", rate=10 / 60, burst=10
        )
        if not decision.allowed:
            retry = str(max(1, int(decision.retry_after + 0.999)))
            return error(429, "RATE_LIMITED", "too many uploads", {**headers, "retry-after": retry})
        limit = channel.settings.max_upload_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return error(413, "TOO_LARGE", f"larger than {limit} bytes", headers)
        filename = request.headers.get("x-filename", "") or request.query_params.get("filename", "")
        try:
            attachment = await self.uploads.upload(
                channel,
                request.headers.get("content-type", ""),
                unquote(filename)[:255],
                _nonempty(request.stream()),
            )
        except UnsupportedFile as exc:
            return error(415, "UNSUPPORTED_FILE", exc.message, headers)
        except TooLarge as exc:
            return error(413, "TOO_LARGE", exc.message, headers)
        except InvalidArgument as exc:
            return error(400, "INVALID_FILE", exc.message, headers)
        return JSONResponse(
            {
                "attachment": attachment.id,
                "filename": attachment.filename,
                "mime_type": attachment.mime_type,
                "size_bytes": attachment.size_bytes,
            },
            status_code=201,
            headers={**headers, **_SECURE},
        )

    async def download(self, request: Request) -> Response:
        channel, headers, refused = await self._channel(request, "GET")
        if refused or channel is None:
            return refused or error(404, "NOT_FOUND", "unknown chat")
        token = request.query_params.get("token", "") or bearer(request)
        if self.tokens.verify(token, channel_key=channel.key, now=int(time.time())) is None:
            return error(401, "UNAUTHENTICATED", "a valid visitor session is required", headers)
        found = await self.uploads.download(channel, request.path_params["attachment"])
        if found is None:
            return error(404, "NOT_FOUND", "no such attachment", headers)
        attachment, chunks = found
        inline = attachment.mime_type.startswith(("image/", "video/", "audio/"))
        disposition = "inline" if inline else "attachment"
        return StreamingResponse(
            chunks,
            media_type=attachment.mime_type,
            headers={
                **headers,
                "content-length": str(attachment.size_bytes),
                "x-content-type-options": "nosniff",
                # Served from our origin: never let a file run script there.
                "content-security-policy": "default-src 'none'; sandbox",
                "content-disposition": f'{disposition}; filename="{_ascii(attachment.filename)}"',
                "cache-control": "private, max-age=3600",
            },
        )


async def _nonempty(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body, refusing an empty one (a file of no bytes is a mistake)."""
    empty = True
    async for chunk in chunks:
        if chunk:
            empty = False
            yield chunk
    if empty:
        raise InvalidArgument.for_field("body", "the file is empty")


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


async def widget_js(_request: Request) -> Response:
    bundle = widget_bundle()
    if bundle is None:
        return error(404, "NOT_BUILT", "the widget is not built (make widget)")
    return Response(
        bundle,
        media_type="application/javascript",
        headers={
            "cache-control": "public, max-age=300",
            "x-content-type-options": "nosniff",
            # Any site embeds it with a plain <script src>.
            "access-control-allow-origin": "*",
            "cross-origin-resource-policy": "cross-origin",
        },
    )


def http_routes(api: VisitorHttp) -> list[BaseRoute]:
    return [
        Route("/widget.js", widget_js, methods=["GET"]),
        Route("/webchat/{key}/config", api.config, methods=["GET"]),
        Route("/webchat/{key}/config", api.preflight, methods=["OPTIONS"]),
        Route("/webchat/{key}/sessions", api.sessions, methods=["POST"]),
        Route("/webchat/{key}/sessions", api.preflight, methods=["OPTIONS"]),
        Route("/webchat/{key}/attachments", api.upload, methods=["POST"]),
        Route("/webchat/{key}/attachments", api.preflight, methods=["OPTIONS"]),
        Route("/webchat/{key}/attachments/{attachment}", api.download, methods=["GET"]),
    ]
