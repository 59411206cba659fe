"""``/openapi.json`` and a Swagger UI page at ``/docs``, served from vendored files.

Swagger UI comes from the npm package swagger-ui-dist (see scripts/vendor-swagger-ui.sh)
and is committed under static/, so the docs page needs no network at run time.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{static}/swagger-ui/favicon-32x32.png">
<link rel="stylesheet" href="{static}/swagger-ui/swagger-ui.css">
</head>
<body data-openapi="{openapi}">
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{static}/docs-init.js"></script>
</body>
</html>
"""


def docs_routes(
    document: dict[str, Any] | bytes,
    *,
    openapi_path: str = "/openapi.json",
    docs_path: str = "/docs",
    title: str = "API reference",
) -> list[BaseRoute]:
    """Starlette routes serving the document and the docs page (and its static files)."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    static_path = f"{docs_path.rstrip('/')}/static"
    page = _PAGE.format(
        title=html.escape(title),
        static=html.escape(static_path),
        openapi=html.escape(openapi_path),
    )

    async def openapi(_: Request) -> Response:
        return Response(body, media_type="application/json")

    async def docs(_: Request) -> Response:
        return HTMLResponse(page)

    return [
        Route(openapi_path, openapi, methods=["GET"]),
        Route(docs_path, docs, methods=["GET"]),
        Mount(static_path, app=StaticFiles(directory=STATIC_DIR)),
    ]


def docs_app(document: dict[str, Any] | bytes, **options: str) -> Starlette:
    return Starlette(routes=docs_routes(document, **options))
