"""What the gRPC server serves: each context's servicers and the interceptors.

This is part of the composition root: a context that gains a servicer registers it here.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from linktor.server.api.grpc_server import Registration
from linktor.server.bootstrap import Container
from linktor.server.channels.api.registrations import channel_registrations
from linktor.server.identity.api.interceptor import AuthInterceptor
from linktor.server.identity.api.registrations import identity_registrations
from linktor.server.shared.background import Background
from linktor.server.webchat.api.try_page import try_routes


def grpc_registrations(container: Container) -> list[Registration]:
    """(add_XServicer_to_server, servicer) pairs for every implemented service."""
    registrations: list[Registration] = []
    registrations += identity_registrations(container.identity)
    registrations += channel_registrations(container.channel_services)
    registrations += container.messaging.registrations()
    registrations += container.media.registrations()
    registrations += container.inbox.registrations()
    registrations += container.webhooks.registrations()
    return registrations


def grpc_interceptors(container: Container) -> list[Any]:
    """Interceptors run after error mapping, in order (authentication first)."""
    return [AuthInterceptor(container.identity.authenticator)]


def http_routes(container: Container) -> list[BaseRoute]:
    """Routes mounted on the HTTP server besides /healthz, /readyz, /openapi.json and /docs
    (provider webhooks, WebSockets, static files). REST under /v1 is not a route here: the
    runtime puts the transcoder in front of the app for HTTP requests under /v1 only."""
    return [
        *container.messaging.http_routes(),
        *container.webchat.http_routes(),
        *try_routes(),
        *container.media.http_routes(),
    ]


def background(container: Container) -> list[Background]:
    """Work the process runs besides its servers, started after them and stopped before the
    pools close. ``linktor serve`` runs the workers unless LINKTOR_WORKERS=false; ``linktor
    worker`` runs only these."""
    workers = container.settings.workers
    inbox = container.inbox.background() if workers else []
    webhooks = container.webhooks.background(workers=workers)
    return [*container.messaging.background(workers=workers), *inbox, *webhooks]
