"""A page to try a web chat channel without a website: ``/webchat/{key}/try``.

It embeds the widget exactly as a site would (the snippet in docs/channels/webchat.md), so a
newcomer can chat as a visitor right after creating a channel and answer from the API, the
CLI or the SDK. The key is the channel's public key; it is validated before it is written
into the page, and nothing else from the request reaches the HTML.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,128}$")

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Linktor web chat</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
         padding: 0 1rem; color: #1f2937; }}
  code {{ background: #f3f4f6; padding: .1rem .3rem; border-radius: .25rem; }}
</style>
</head>
<body>
<h1>Try your web chat</h1>
<p>This page embeds the Linktor widget the way your site would. Open the chat in the corner and
write as a visitor; answer from the API, the <code>msgfy</code> CLI or the SDK (the visitor's
conversation shows up in <code>msgfy conversations list</code>).</p>
<p>On your own site, add:</p>
<pre><code>&lt;script src="{origin}/widget.js" data-channel="{key}" async&gt;
&lt;/script&gt;</code></pre>
<script src="/widget.js" data-channel="{key}" data-open="true" async></script>
</body>
</html>
"""


async def try_page(request: Request) -> Response:
    key = str(request.path_params["key"])
    if not _KEY.fullmatch(key):
        return PlainTextResponse("not a web chat channel key", status_code=404)
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return HTMLResponse(_PAGE.format(key=key, origin=origin))


def try_routes() -> list[Route]:
    return [Route("/webchat/{key}/try", try_page, methods=["GET"])]
