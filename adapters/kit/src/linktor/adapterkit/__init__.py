"""Linktor adapter kit: write a channel adapter in Python.

The stable public API (see adapters/kit/README.md)::

    from linktor.adapterkit import BaseAdapter, serve
    from linktor.adapterkit import ConfigCheck, violation, Code, failed, send_error
    from linktor.adapterkit import verify_hmac_sha256, sign_hex, WebhookRejected
    from linktor.adapterkit.http import create_http_client          # provider HTTP client
    from linktor.adapterkit.testing import serve_asgi, launch_adapter  # test helpers
    python -m linktor.adapterkit.conformance -- COMMAND...           # conformance suite
"""

from linktor.adapterkit.base import BaseAdapter, MediaNotSupportedError, error_for_exception
from linktor.adapterkit.config import ConfigCheck, check_declared_fields, url_problem, violation
from linktor.adapterkit.content import SENDABLE_KINDS, content_kind, kind_name
from linktor.adapterkit.errors import Code, failed, not_supported, send_error
from linktor.adapterkit.serve import PluginServer, serve, serve_async
from linktor.adapterkit.signatures import (
    sign_base64,
    sign_hex,
    verify_any_secret,
    verify_hmac_sha256,
)
from linktor.adapterkit.webhooks import (
    WebhookRejected,
    handled,
    header,
    json_body,
    json_response,
    query,
    rejected,
    response,
)

__version__ = "0.1.0"

__all__ = [
    "SENDABLE_KINDS",
    "BaseAdapter",
    "Code",
    "ConfigCheck",
    "MediaNotSupportedError",
    "PluginServer",
    "WebhookRejected",
    "check_declared_fields",
    "content_kind",
    "error_for_exception",
    "failed",
    "handled",
    "header",
    "json_body",
    "json_response",
    "kind_name",
    "not_supported",
    "query",
    "rejected",
    "response",
    "send_error",
    "serve",
    "serve_async",
    "sign_base64",
    "sign_hex",
    "url_problem",
    "verify_any_secret",
    "verify_hmac_sha256",
    "violation",
]
