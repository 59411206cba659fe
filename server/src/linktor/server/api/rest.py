"""REST under /v1: the gateway's transcoder, in process, over the gRPC server's own handlers.

``LocalInvoker`` runs the handlers of the ``ServedApi`` through its interceptor chain (error
mapping, authentication, rate limits), so a REST call is the gRPC call minus the network:
the ``Authorization`` header arrives as ``authorization`` metadata and the HTTP client's
address as the peer, exactly what the interceptors read on gRPC.

The transcoder claims only HTTP requests under ``/v1`` (there, an unknown path or method is a
google.rpc.Status 404/405 like every other REST error); everything else (health probes,
/openapi.json and /docs, webhooks, WebSockets, static files) goes to the HTTP app.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from linktor.gateway.app import TranscodingApp
from linktor.gateway.asgi import ASGIApp, Receive, Scope, Send
from linktor.gateway.docs import docs_routes
from linktor.gateway.local_invoker import LocalInvoker
from linktor.gateway.routes import build_routes
from linktor.server.api.rate_limit_headers import error_headers
from linktor.server.api.served import ServedApi
from linktor.server.api.services import public_services
from linktor.server.logs import get_logger

log = get_logger(__name__)

PREFIX = "/v1"
OPENAPI_FILE = "linktor.openapi.json"
# Written by `make gen` into the linktor-proto package (so it ships in the wheel) and to
# gen/openapi/ (the committed copy); the latter is only looked at in a source checkout.
_REPOSITORY_COPY = Path(__file__).resolve().parents[5] / "gen" / "openapi" / OPENAPI_FILE


def build_rest(api: ServedApi) -> TranscodingApp:
    """The transcoder for every linktor.v1 route (route conflicts raise here, at start)."""
    return TranscodingApp(
        build_routes(public_services()),
        LocalInvoker(api.handlers, api.interceptors),
        error_headers=error_headers,
    )


class RestDispatch:
    """ASGI: HTTP requests under /v1 to the transcoder, everything else to ``app``."""

    def __init__(self, rest: ASGIApp, app: ASGIApp) -> None:
        self._rest = rest
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(PREFIX + "/")):
            await self._rest(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def openapi_document() -> bytes | None:
    """The generated OpenAPI document (with the proto comments), or None if not installed."""
    packaged = resources.files("linktor.v1") / OPENAPI_FILE
    for candidate in (packaged, _REPOSITORY_COPY):
        if candidate.is_file():
            return candidate.read_bytes()
    log.warning("OpenAPI document not found: /openapi.json and /docs are off", file=OPENAPI_FILE)
    return None


def docs_http_routes() -> list[BaseRoute]:
    """/openapi.json and the Swagger UI at /docs (vendored, no network needed)."""
    document = openapi_document()
    if document is None:
        return []
    info: dict[str, Any] = json.loads(document).get("info", {})
    return docs_routes(document, title=str(info.get("title", "Linktor API")))
