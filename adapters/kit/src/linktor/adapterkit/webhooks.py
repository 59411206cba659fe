"""Reading a provider's raw HTTP request and building the answer for it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from linktor.adapter.v1 import adapter_pb2


class WebhookRejected(Exception):
    """Raise from ``handle_webhook`` to answer the provider with ``status`` and ``message``.

    ``authenticated`` says whether the request's signature had been verified before the
    problem was found (malformed but authentic payloads are still logged as authentic).
    """

    def __init__(self, status: int, message: str, *, authenticated: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.authenticated = authenticated


def header(request: adapter_pb2.HttpRequest, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or None."""
    wanted = name.lower()
    for item in request.headers:
        if item.name.lower() == wanted:
            return item.value
    return None


def query(request: adapter_pb2.HttpRequest) -> dict[str, str]:
    """The query string's parameters, first value of each."""
    return {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


def json_body(request: adapter_pb2.HttpRequest, *, authenticated: bool = True) -> Any:
    """The body parsed as JSON; WebhookRejected(400) when it is not JSON."""
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "body is not JSON", authenticated=authenticated) from None


def response(
    status: int,
    body: bytes | str = b"",
    *,
    content_type: str = "text/plain; charset=utf-8",
    headers: Mapping[str, str] | None = None,
) -> adapter_pb2.HttpResponse:
    """An HttpResponse for the provider."""
    data = body.encode() if isinstance(body, str) else body
    items = [adapter_pb2.Header(name="content-type", value=content_type)] if data else []
    items += [adapter_pb2.Header(name=k.lower(), value=v) for k, v in (headers or {}).items()]
    return adapter_pb2.HttpResponse(status=status, headers=items, body=data)


def json_response(status: int, payload: Any) -> adapter_pb2.HttpResponse:
    return response(status, json.dumps(payload), content_type="application/json")


def handled(
    events: Iterable[adapter_pb2.InboundEvent] = (),
    *,
    status: int = 200,
    body: bytes | str = b"",
) -> adapter_pb2.HandleWebhookResponse:
    """An authenticated request's answer with the events parsed from it."""
    return adapter_pb2.HandleWebhookResponse(
        response=response(status, body), authenticated=True, events=list(events)
    )


def rejected(
    status: int, message: str, *, authenticated: bool = False
) -> adapter_pb2.HandleWebhookResponse:
    """A refused request: no events."""
    return adapter_pb2.HandleWebhookResponse(
        response=response(status, message), authenticated=authenticated
    )
