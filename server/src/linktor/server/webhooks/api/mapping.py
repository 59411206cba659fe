"""Proto <-> domain for WebhookService. A secret reaches a response only when the use case
hands one over (create, rotate); nothing here reads a sealed secret."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf import duration_pb2, field_mask_pb2

from linktor.server.api.field_masks import update_paths
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.names import NamePattern
from linktor.server.shared.proto_time import timestamp
from linktor.server.webhooks.app.inputs import EndpointDraft, EndpointPatch
from linktor.server.webhooks.domain.delivery import Attempt, Delivery, DeliveryState
from linktor.server.webhooks.domain.endpoint import RateLimit, WebhookEndpoint
from linktor.v1 import common_pb2, webhook_pb2

DELIVERY = NamePattern("tenants/{tenant}/webhookEndpoints/{webhook_endpoint}/deliveries/{delivery}")

#: Fields UpdateWebhookEndpoint changes, and what `*` stands for.
UPDATABLE = (
    "url",
    "event_types",
    "description",
    "disabled",
    "headers",
    "rate_limit",
    "retry_schedule",
)

_STATES = {
    DeliveryState.PENDING: webhook_pb2.WEBHOOK_DELIVERY_STATE_PENDING,
    DeliveryState.SUCCEEDED: webhook_pb2.WEBHOOK_DELIVERY_STATE_SUCCEEDED,
    DeliveryState.FAILED: webhook_pb2.WEBHOOK_DELIVERY_STATE_FAILED,
}
_STATES_BACK: dict[int, DeliveryState] = {int(value): key for key, value in _STATES.items()}


def _duration(value: timedelta) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromTimedelta(value)
    return message


def endpoint_to_proto(endpoint: WebhookEndpoint, secret: str = "") -> webhook_pb2.WebhookEndpoint:
    return webhook_pb2.WebhookEndpoint(
        name=endpoint.name,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        description=endpoint.description,
        disabled=endpoint.disabled,
        disabled_reason=endpoint.disabled_reason,
        headers=dict(endpoint.headers),
        rate_limit=common_pb2.RateLimit(
            per_second=endpoint.rate_limit.per_second, burst=endpoint.rate_limit.burst
        ),
        secret=secret,
        retry_schedule=[_duration(d) for d in endpoint.retry_schedule],
        create_time=timestamp(endpoint.create_time),
        update_time=timestamp(endpoint.update_time),
        etag=endpoint.etag,
    )


def _schedule(endpoint: webhook_pb2.WebhookEndpoint) -> tuple[timedelta, ...]:
    return tuple(d.ToTimedelta() for d in endpoint.retry_schedule)


def draft_from_proto(endpoint: webhook_pb2.WebhookEndpoint) -> EndpointDraft:
    return EndpointDraft(
        url=endpoint.url,
        event_types=tuple(endpoint.event_types),
        description=endpoint.description,
        disabled=endpoint.disabled,
        headers=dict(endpoint.headers),
        rate_limit=RateLimit(endpoint.rate_limit.per_second, endpoint.rate_limit.burst),
        retry_schedule=_schedule(endpoint),
    )


def patch_from_proto(
    endpoint: webhook_pb2.WebhookEndpoint, mask: field_mask_pb2.FieldMask
) -> EndpointPatch:
    paths = update_paths(mask, endpoint, UPDATABLE, "webhook_endpoint")
    return EndpointPatch(
        url=endpoint.url if "url" in paths else None,
        event_types=tuple(endpoint.event_types) if "event_types" in paths else None,
        description=endpoint.description if "description" in paths else None,
        disabled=endpoint.disabled if "disabled" in paths else None,
        headers=dict(endpoint.headers) if "headers" in paths else None,
        rate_limit=(
            RateLimit(endpoint.rate_limit.per_second, endpoint.rate_limit.burst)
            if "rate_limit" in paths
            else None
        ),
        retry_schedule=_schedule(endpoint) if "retry_schedule" in paths else None,
        etag=endpoint.etag,
    )


def state_from_proto(value: int) -> DeliveryState | None:
    if value == webhook_pb2.WEBHOOK_DELIVERY_STATE_UNSPECIFIED:
        return None
    state = _STATES_BACK.get(int(value))
    if state is None:
        raise InvalidArgument.for_field("state", f"unknown delivery state {value}")
    return state


def attempt_to_proto(attempt: Attempt) -> webhook_pb2.WebhookAttempt:
    return webhook_pb2.WebhookAttempt(
        number=attempt.number,
        start_time=timestamp(attempt.start_time),
        http_status=attempt.http_status,
        latency=_duration(attempt.latency),
        response_body=attempt.response_body,
        error=attempt.error,
    )


def delivery_to_proto(
    delivery: Delivery, attempts: list[Attempt] | None = None
) -> webhook_pb2.WebhookDelivery:
    return webhook_pb2.WebhookDelivery(
        name=delivery.name,
        webhook_id=delivery.webhook_id,
        event_type=delivery.event_type,
        event_sequence=delivery.event_sequence,
        state=_STATES[delivery.state],
        attempt_count=delivery.attempt_count,
        next_attempt_time=(
            timestamp(delivery.next_attempt_time)
            if delivery.state is DeliveryState.PENDING
            else None
        ),
        attempts=[attempt_to_proto(a) for a in attempts or []],
        create_time=timestamp(delivery.create_time),
    )
