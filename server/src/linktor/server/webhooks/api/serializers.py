"""How the webhooks context's domain events become linktor.v1.Event payloads."""

from __future__ import annotations

from linktor.server.webhooks.api.mapping import endpoint_to_proto
from linktor.server.webhooks.domain.events import EndpointDisabled
from linktor.v1 import event_pb2


def endpoint_disabled(event: EndpointDisabled, out: event_pb2.Event) -> None:
    # endpoint_to_proto leaves the secret empty: events never carry one.
    out.webhook_endpoint.CopyFrom(endpoint_to_proto(event.endpoint))
