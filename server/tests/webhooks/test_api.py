"""WebhookService through the real gRPC server and authentication, on both backends: CRUD,
secrets shown only on create and rotate, validation, test sends, the delivery log with
filters, replays (same webhook-id), and tenant isolation (another tenant's endpoints,
deliveries and secrets answer NOT_FOUND)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from lktest.identity import IdentityServer, Tenant, bearer, fails, start_identity_server
from lktest.webhooks import (
    EventSource,
    Receiver,
    build_test_webhooks,
    eventually,
    running_receiver,
    running_webhooks,
    webhook_settings,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.identity.module import IdentityServices
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.cache.memory import MemoryRateLimiter
from linktor.server.shared.clock import SystemClock
from linktor.server.webhooks.module import WebhookServices
from linktor.v1 import webhook_pb2, webhook_pb2_grpc

pytestmark = pytest.mark.integration

W = webhook_pb2


@dataclass
class Api:
    server: IdentityServer
    webhooks: WebhookServices
    stub: webhook_pb2_grpc.WebhookServiceAsyncStub
    events: EventSource
    receiver: Receiver
    a: Tenant
    b: Tenant

    def key(self, tenant: Tenant) -> tuple[tuple[str, str]]:
        return bearer(tenant.api_key)

    async def create(self, tenant: Tenant, **fields: object) -> W.WebhookEndpoint:
        endpoint = W.WebhookEndpoint(url=self.receiver.url, **fields)  # type: ignore[arg-type]
        made = await self.stub.CreateWebhookEndpoint(
            W.CreateWebhookEndpointRequest(parent=tenant.name, webhook_endpoint=endpoint),
            metadata=self.key(tenant),
        )
        self.receiver.secrets.append(made.secret)
        return made


@pytest_asyncio.fixture
async def api(engine: AsyncEngine, bus: EventBus, tmp_path: Path) -> AsyncIterator[Api]:
    settings = webhook_settings(tmp_path)
    clock = SystemClock()
    built: list[WebhookServices] = []

    def services(identity: IdentityServices) -> list[object]:
        webhooks = build_test_webhooks(settings, engine, bus, clock, plans=identity.plans)
        built.append(webhooks)
        return webhooks.registrations()  # type: ignore[return-value]

    async with (
        start_identity_server(
            engine,
            settings,
            MemoryRateLimiter(),
            more_services=services,  # type: ignore[arg-type]
        ) as server,
        running_receiver(Receiver()) as receiver,
        running_webhooks(built[0]) as webhooks,
    ):
        yield Api(
            server,
            webhooks,
            webhook_pb2_grpc.WebhookServiceStub(server.channel),
            EventSource(engine, bus, clock),
            receiver,
            await server.tenant(),
            await server.tenant(),
        )


async def test_crud_shows_the_secret_only_on_create_and_rotate(api: Api) -> None:
    made = await api.create(api.a, event_types=["message.*"], description="orders")
    assert made.secret.startswith("whsec_") and len(made.secret) > 40
    assert made.name.startswith(f"{api.a.name}/webhookEndpoints/")
    got = await api.stub.GetWebhookEndpoint(
        W.GetWebhookEndpointRequest(name=made.name), metadata=api.key(api.a)
    )
    assert got.secret == "" and got.url == made.url and list(got.event_types) == ["message.*"]
    listed = await api.stub.ListWebhookEndpoints(
        W.ListWebhookEndpointsRequest(parent=api.a.name), metadata=api.key(api.a)
    )
    assert [e.name for e in listed.webhook_endpoints] == [made.name]
    assert all(e.secret == "" for e in listed.webhook_endpoints)
    updated = await api.stub.UpdateWebhookEndpoint(
        W.UpdateWebhookEndpointRequest(
            webhook_endpoint=W.WebhookEndpoint(name=made.name, disabled=True, etag=got.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["disabled"]),
        ),
        metadata=api.key(api.a),
    )
    assert updated.disabled and updated.secret == "" and updated.etag != got.etag
    stale = await fails(
        api.stub.UpdateWebhookEndpoint(
            W.UpdateWebhookEndpointRequest(
                webhook_endpoint=W.WebhookEndpoint(name=made.name, description="x", etag=got.etag),
            ),
            metadata=api.key(api.a),
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    rotated = await api.stub.RotateWebhookSecret(
        W.RotateWebhookSecretRequest(
            name=made.name, grace_period=duration_pb2.Duration(seconds=3600)
        ),
        metadata=api.key(api.a),
    )
    assert rotated.secret.startswith("whsec_") and rotated.secret != made.secret
    await api.stub.DeleteWebhookEndpoint(
        W.DeleteWebhookEndpointRequest(name=made.name), metadata=api.key(api.a)
    )
    gone = await fails(
        api.stub.GetWebhookEndpoint(
            W.GetWebhookEndpointRequest(name=made.name), metadata=api.key(api.a)
        )
    )
    assert gone.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (
            {"headers": {"Webhook-Signature": "v1,forged"}},
            "webhook_endpoint.headers['Webhook-Signature']",
        ),
        ({"headers": {"Content-Type": "text/plain"}}, "webhook_endpoint.headers['Content-Type']"),
        ({"headers": {"Host": "evil.example"}}, "webhook_endpoint.headers['Host']"),
        ({"headers": {"X-Ok": "line\r\nbreak"}}, "webhook_endpoint.headers['X-Ok']"),
        ({"event_types": ["message.**"]}, "webhook_endpoint.event_types[0]"),
        ({"url": "http://10.0.0.1/x"}, "webhook_endpoint.url"),
        ({"url": "http://[::1]/x"}, "webhook_endpoint.url"),
        ({"url": "ftp://example.com/x"}, "webhook_endpoint.url"),
        ({"rate_limit": {"per_second": -1}}, "webhook_endpoint.rate_limit.per_second"),
        (
            {"retry_schedule": [duration_pb2.Duration(seconds=0)]},
            "webhook_endpoint.retry_schedule[0]",
        ),
    ],
)
async def test_invalid_endpoints_are_refused_naming_the_field(
    api: Api, fields: dict[str, object], field: str
) -> None:
    endpoint = W.WebhookEndpoint(url=api.receiver.url)
    for key, value in fields.items():
        if key == "headers":
            endpoint.headers.update(value)  # type: ignore[call-overload]
        elif key == "rate_limit":
            endpoint.rate_limit.per_second = value["per_second"]  # type: ignore[index]
        elif key == "retry_schedule":
            endpoint.retry_schedule.extend(value)  # type: ignore[arg-type]
        elif key == "event_types":
            endpoint.event_types.extend(value)  # type: ignore[arg-type]
        else:
            setattr(endpoint, key, value)
    failure = await fails(
        api.stub.CreateWebhookEndpoint(
            W.CreateWebhookEndpointRequest(parent=api.a.name, webhook_endpoint=endpoint),
            metadata=api.key(api.a),
        )
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, failure.message
    assert field in failure.message


async def test_test_send_and_the_delivery_log(api: Api) -> None:
    made = await api.create(api.a, event_types=["contact.*"])
    delivery = await api.stub.TestWebhookEndpoint(
        W.TestWebhookEndpointRequest(name=made.name), metadata=api.key(api.a)
    )
    assert delivery.event_type == "webhook.test"
    assert delivery.state == W.WEBHOOK_DELIVERY_STATE_SUCCEEDED
    assert [a.http_status for a in delivery.attempts] == [200]
    assert delivery.attempts[0].response_body == "thanks"
    assert api.receiver.received[0].body["type"] == "webhook.test"
    assert api.receiver.received[0].body["data"]["webhookEndpoint"]["name"] == made.name
    await api.events.emit(api.a.id, "contact.created", 2)
    await api.events.emit(api.a.id, "contact.updated")
    await eventually(lambda: len(api.receiver.received) == 4)

    async def listed(**filters: object) -> list[W.WebhookDelivery]:
        page = await api.stub.ListWebhookDeliveries(
            W.ListWebhookDeliveriesRequest(parent=made.name, **filters),  # type: ignore[arg-type]
            metadata=api.key(api.a),
        )
        return list(page.deliveries)

    async def all_succeeded() -> bool:
        found = await listed(state=W.WEBHOOK_DELIVERY_STATE_SUCCEEDED)
        return len(found) == 4

    await eventually(all_succeeded)
    everything = await listed()
    assert [d.event_type for d in everything] == [
        "contact.updated",
        "contact.created",
        "contact.created",
        "webhook.test",
    ]  # newest first
    assert [d.event_type for d in await listed(event_type="contact.updated")] == ["contact.updated"]
    assert await listed(state=W.WEBHOOK_DELIVERY_STATE_PENDING) == []
    first_page = await api.stub.ListWebhookDeliveries(
        W.ListWebhookDeliveriesRequest(parent=made.name, page_size=3), metadata=api.key(api.a)
    )
    second_page = await api.stub.ListWebhookDeliveries(
        W.ListWebhookDeliveriesRequest(
            parent=made.name, page_size=3, page_token=first_page.next_page_token
        ),
        metadata=api.key(api.a),
    )
    assert len(first_page.deliveries) == 3 and len(second_page.deliveries) == 1
    one = await api.stub.GetWebhookDelivery(
        W.GetWebhookDeliveryRequest(name=everything[0].name), metadata=api.key(api.a)
    )
    assert one.webhook_id == f"evt_{api.a.id}_3" and one.event_sequence == 3
    assert one.attempts[0].http_status == 200 and one.attempts[0].latency.ToTimedelta()


async def test_replays_keep_the_webhook_id(api: Api) -> None:
    made = await api.create(api.a)
    await api.events.emit(api.a.id, "contact.created", 3)
    await eventually(lambda: len(api.receiver.received) == 3)
    page = await api.stub.ListWebhookDeliveries(
        W.ListWebhookDeliveriesRequest(parent=made.name), metadata=api.key(api.a)
    )
    original = page.deliveries[-1]
    again = await api.stub.ReplayWebhookDelivery(
        W.ReplayWebhookDeliveryRequest(name=original.name), metadata=api.key(api.a)
    )
    assert again.name != original.name and again.webhook_id == original.webhook_id
    assert again.state == W.WEBHOOK_DELIVERY_STATE_SUCCEEDED
    assert api.receiver.ids[-1] == original.webhook_id
    queued = await api.stub.ReplayWebhookEvents(
        W.ReplayWebhookEventsRequest(name=made.name, after_sequence=1), metadata=api.key(api.a)
    )
    assert queued.queued_count == 2
    await eventually(lambda: len(api.receiver.received) == 6)
    assert sorted(api.receiver.ids[4:]) == [f"evt_{api.a.id}_2", f"evt_{api.a.id}_3"]
    an_hour_ago = timestamp_pb2.Timestamp(seconds=original.create_time.seconds - 3600)
    since = await api.stub.ReplayWebhookEvents(
        W.ReplayWebhookEventsRequest(name=made.name, start_time=an_hour_ago),
        metadata=api.key(api.a),
    )
    assert since.queued_count == 3
    later = timestamp_pb2.Timestamp(seconds=original.create_time.seconds + 3600)
    none = await api.stub.ReplayWebhookEvents(
        W.ReplayWebhookEventsRequest(name=made.name, start_time=later), metadata=api.key(api.a)
    )
    assert none.queued_count == 0
    both = await fails(
        api.stub.ReplayWebhookEvents(
            W.ReplayWebhookEventsRequest(
                name=made.name, start_time=original.create_time, after_sequence=1
            ),
            metadata=api.key(api.a),
        )
    )
    assert both.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_another_tenants_endpoints_deliveries_and_secrets_are_not_found(api: Api) -> None:
    made = await api.create(api.a)
    await api.stub.TestWebhookEndpoint(
        W.TestWebhookEndpointRequest(name=made.name), metadata=api.key(api.a)
    )
    page = await api.stub.ListWebhookDeliveries(
        W.ListWebhookDeliveriesRequest(parent=made.name), metadata=api.key(api.a)
    )
    delivery = page.deliveries[0].name
    as_b = api.key(api.b)
    calls = [
        api.stub.GetWebhookEndpoint(W.GetWebhookEndpointRequest(name=made.name), metadata=as_b),
        api.stub.UpdateWebhookEndpoint(
            W.UpdateWebhookEndpointRequest(
                webhook_endpoint=W.WebhookEndpoint(name=made.name, description="mine now")
            ),
            metadata=as_b,
        ),
        api.stub.DeleteWebhookEndpoint(
            W.DeleteWebhookEndpointRequest(name=made.name), metadata=as_b
        ),
        api.stub.RotateWebhookSecret(W.RotateWebhookSecretRequest(name=made.name), metadata=as_b),
        api.stub.TestWebhookEndpoint(W.TestWebhookEndpointRequest(name=made.name), metadata=as_b),
        api.stub.ReplayWebhookEvents(W.ReplayWebhookEventsRequest(name=made.name), metadata=as_b),
        api.stub.ListWebhookDeliveries(
            W.ListWebhookDeliveriesRequest(parent=made.name), metadata=as_b
        ),
        api.stub.GetWebhookDelivery(W.GetWebhookDeliveryRequest(name=delivery), metadata=as_b),
        api.stub.ReplayWebhookDelivery(
            W.ReplayWebhookDeliveryRequest(name=delivery), metadata=as_b
        ),
        api.stub.ListWebhookEndpoints(
            W.ListWebhookEndpointsRequest(parent=api.a.name), metadata=as_b
        ),
    ]
    for call in calls:
        failure = await fails(call)
        assert failure.code == grpc.StatusCode.NOT_FOUND, failure
    # Tenant B's own view is empty; A's endpoint is untouched.
    own = await api.stub.ListWebhookEndpoints(
        W.ListWebhookEndpointsRequest(parent=api.b.name), metadata=as_b
    )
    assert list(own.webhook_endpoints) == []
    still = await api.stub.GetWebhookEndpoint(
        W.GetWebhookEndpointRequest(name=made.name), metadata=api.key(api.a)
    )
    assert still.etag == made.etag
    # B's events never reach A's endpoint.
    before = len(api.receiver.received)
    await api.events.emit(api.b.id, "contact.created", 3)
    await api.events.emit(api.a.id, "contact.created")
    await eventually(lambda: len(api.receiver.received) == before + 1)
    assert api.receiver.ids[-1].startswith(f"evt_{api.a.id}_")
