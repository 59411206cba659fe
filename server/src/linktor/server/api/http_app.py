"""The HTTP application: liveness and readiness now; REST, webhooks, WebSockets and static
files are mounted here by later parts of the platform."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from linktor.server.logs import get_logger

log = get_logger(__name__)

# A named readiness check: raises when its dependency is not usable.
ReadinessCheck = tuple[str, Callable[[], Awaitable[None]]]

READINESS_TIMEOUT_SECONDS = 2.0


def build_http_app(checks: list[ReadinessCheck], routes: Sequence[BaseRoute] = ()) -> Starlette:
    async def healthz(_request: Request) -> JSONResponse:
        """Liveness: the process answers. Never touches dependencies."""
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        """Readiness: every dependency (database, bus, cache) answers in time."""
        results: dict[str, str] = {}
        ready = True
        for name, check in checks:
            try:
                await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
                results[name] = "ok"
            except Exception as exc:
                ready = False
                results[name] = f"unavailable: {type(exc).__name__}"
                log.warning("readiness check failed", check=name, error=str(exc))
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz), *routes])
