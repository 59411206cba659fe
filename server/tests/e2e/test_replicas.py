"""Two `linktor serve` replicas on shared PostgreSQL, NATS and Redis: an event produced on one
reaches streams on the other, a stream cut and resumed from its last sequence misses nothing,
and one contact's webhooks received by either replica are stored in arrival order (DESIGN §4,
issue 5)."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from lktest.platform import client_for, create_tenant, fake_adapter_env, post_fake_webhook
from lktest.serve import running_serve
from lktest.services import SERVICES, create_pg_database, drop_pg_database, require_service

from linktor.v1 import event_pb2

pytestmark = pytest.mark.e2e


@pytest.fixture
def scaled_env() -> Iterator[dict[str, str]]:
    require_service(SERVICES.nats_url, "NATS")
    require_service(SERVICES.redis_url, "Redis")
    url = asyncio.run(create_pg_database("lk_replicas"))
    # Replicas share their keys (JWT signing, secrets at rest) as well as their services.
    yield {
        "LINKTOR_DATABASE_URL": url,
        "LINKTOR_NATS_URL": SERVICES.nats_url,
        "LINKTOR_REDIS_URL": SERVICES.redis_url,
        "LINKTOR_MIGRATE_ON_START": "true",
        "LINKTOR_JWT_SECRET": base64.b64encode(os.urandom(48)).decode(),
        "LINKTOR_SECRETS_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    asyncio.run(drop_pg_database(url))


class Collector:
    """Reads a server stream on a thread, keeping what arrived."""

    def __init__(self, stream: object) -> None:
        self.events: list[event_pb2.Event] = []
        self.stream = stream
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.stream:  # type: ignore[attr-defined]
                self.events.append(event)
        except grpc.RpcError:
            pass

    def wait_for(self, predicate: object, timeout: float = 30.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.events):  # type: ignore[operator]
                return
            time.sleep(0.05)
        seen = [(e.sequence, e.type, e.message.content.text.body) for e in self.events]
        raise AssertionError(f"stream did not see it; got {seen}")

    def cancel(self) -> None:
        self.stream.cancel()  # type: ignore[attr-defined]
        self.thread.join(timeout=10)


def inbound_texts(events: list[event_pb2.Event]) -> list[str]:
    return [
        e.message.content.text.body
        for e in events
        if e.type == "message.created" and e.message.direction == 1
    ]


def test_an_event_on_one_replica_reaches_streams_on_the_other(
    tmp_path: Path, scaled_env: dict[str, str]
) -> None:
    env = {**scaled_env, **fake_adapter_env(tmp_path / "provider.jsonl")}
    with running_serve(tmp_path / "a", env) as a, running_serve(tmp_path / "b", env) as b:
        tenant = create_tenant(tmp_path / "a", env)
        with client_for(a, tenant) as on_a, client_for(b, tenant) as on_b:
            channel = on_a.create_sms_channel()
            stream = Collector(
                on_a.events.StreamEvents(
                    event_pb2.StreamEventsRequest(
                        parent=on_a.tenant, after_sequence=0, types=["message.created"]
                    ),
                    metadata=on_a.metadata,
                    timeout=120,
                )
            )
            # The webhook is received by replica B (its own HTTP address).
            webhook_on_b = channel.webhook_url.replace(
                channel.webhook_url.split("/webhooks/")[0], b.http_base
            )
            assert (
                post_fake_webhook(
                    webhook_on_b,
                    [{"type": "message", "id": "r-1", "from": "+15550500", "text": "one"}],
                )
                == 200
            )
            stream.wait_for(lambda events: inbound_texts(events) == ["one"])
            last = stream.events[-1].sequence
            stream.cancel()

            # While nobody listens, more arrives through replica A.
            for i in (2, 3):
                assert (
                    post_fake_webhook(
                        channel.webhook_url,
                        [{"type": "message", "id": f"r-{i}", "from": "+15550500", "text": f"m{i}"}],
                    )
                    == 200
                )
            # Resuming on the OTHER replica from the last sequence seen misses nothing.
            resumed = Collector(
                on_b.events.StreamEvents(
                    event_pb2.StreamEventsRequest(
                        parent=on_b.tenant, after_sequence=last, types=["message.created"]
                    ),
                    metadata=on_b.metadata,
                    timeout=120,
                )
            )
            # One contact's webhooks are processed in the order they were received.
            resumed.wait_for(lambda events: inbound_texts(events) == ["m2", "m3"])
            assert all(e.sequence > last for e in resumed.events)
            resumed.cancel()


def test_one_contacts_webhooks_through_two_replicas_are_stored_in_arrival_order(
    tmp_path: Path, scaled_env: dict[str, str]
) -> None:
    env = {**scaled_env, **fake_adapter_env(tmp_path / "provider.jsonl")}
    with running_serve(tmp_path / "a", env) as a, running_serve(tmp_path / "b", env) as b:
        tenant = create_tenant(tmp_path / "a", env)
        with client_for(a, tenant) as on_a:
            channel = on_a.create_sms_channel()
            stream = Collector(
                on_a.events.StreamEvents(
                    event_pb2.StreamEventsRequest(
                        parent=on_a.tenant, after_sequence=0, types=["message.created"]
                    ),
                    metadata=on_a.metadata,
                    timeout=120,
                )
            )
            path = "/webhooks/" + channel.webhook_url.split("/webhooks/")[1]
            replicas = [a.http_base + path, b.http_base + path]
            # Quick succession, each replica in turn; another contact writes in between.
            expected = []
            for n in range(24):
                sender = "+15550600" if n % 3 else "+15550601"
                event: dict[str, object] = {
                    "type": "message",
                    "id": f"o-{n}",
                    "from": sender,
                    "text": f"o{n}",
                }
                assert post_fake_webhook(replicas[n % 2], [event]) == 200
                if sender == "+15550600":
                    expected.append(f"o{n}")

            def of_first_contact(events: list[event_pb2.Event]) -> list[str]:
                texts = set(expected)
                return [t for t in inbound_texts(events) if t in texts]

            stream.wait_for(lambda events: len(of_first_contact(events)) == len(expected))
            # The stream shows events in sequence order, the order they were stored in.
            assert of_first_contact(stream.events) == expected
            stream.cancel()
