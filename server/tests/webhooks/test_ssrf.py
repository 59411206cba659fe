"""SSRF protection: endpoint URLs must reach public destinations, checked when the URL is set
AND at every connection (resolved once, connected to the checked address). No test here ever
connects anywhere but loopback: refused destinations are refused before any connection."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from lktest.seed import seed_tenant
from lktest.webhooks import Receiver, build_test_webhooks, running_receiver, webhook_settings
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.adapterkit.netguard import AddressPolicy, IPAddress, UnresolvableHost
from linktor.server.infra.bus.port import EventBus
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.principal import Principal, Role
from linktor.server.webhooks.adapters.http_sender import HttpSender
from linktor.server.webhooks.app.inputs import EndpointDraft, EndpointPatch
from linktor.server.webhooks.app.ports import OutgoingRequest

pytestmark = pytest.mark.integration


class ScriptedResolver:
    """DNS as the test says: each name answers its next list of addresses (the last one
    repeats), so a name can change its answer between two lookups (rebinding)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        script = self.answers.get(host)
        if not script:
            raise UnresolvableHost(host)
        current = script.pop(0) if len(script) > 1 else script[0]
        return [ipaddress.ip_address(a) for a in current]


REFUSED_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://10.0.0.5/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://2130706433/hook",  # decimal 127.0.0.1
    "http://0177.0.0.1/hook",  # octal 127.0.0.1
    "http://0x7f.1/hook",  # hex, short form
    "http://012.0.0.1/hook",  # octal 10.0.0.1
    "http://internal.example/hook",  # resolves to a private address
    "http://mixed.example/hook",  # one public and one loopback answer
    "http://localhost/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "http://user:pw@public.example/hook",
]


def resolver() -> ScriptedResolver:
    return ScriptedResolver(
        {
            "public.example": [["93.184.216.34"]],
            "internal.example": [["10.20.30.40"]],
            "mixed.example": [["93.184.216.34", "127.0.0.1"]],
            "localhost": [["127.0.0.1", "::1"]],
            "metadata.google.internal": [["169.254.169.254"]],
        }
    )


def admin(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id="u1", role=Role.ADMIN)


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_non_public_destinations_are_refused_when_set(
    url: str, engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    tenant_id = await seed_tenant(engine)
    services = build_test_webhooks(
        webhook_settings(tmp_path, allow=""), engine, bus, SystemClock(), resolver=resolver()
    )
    with pytest.raises(InvalidArgument) as refused:
        await services.endpoints.create(admin(tenant_id), tenant_id, EndpointDraft(url=url))
    assert refused.value.violations[0].field == "webhook_endpoint.url"
    # A public endpoint cannot be moved there either.
    made = await services.endpoints.create(
        admin(tenant_id), tenant_id, EndpointDraft(url="https://public.example/hook")
    )
    with pytest.raises(InvalidArgument):
        await services.endpoints.update(
            admin(tenant_id), tenant_id, made.endpoint.id, EndpointPatch(url=url)
        )
    await services.close()


async def test_a_name_that_rebinds_to_a_private_address_is_refused_at_connect_time() -> None:
    """Public when the endpoint was created, loopback when the request is made: refused,
    without connecting."""
    dns = ScriptedResolver({"rebind.example": [["93.184.216.34"], ["127.0.0.1"]]})
    policy = AddressPolicy(resolver=dns)
    assert await policy.destinations("rebind.example", 443)  # the creation-time check
    sender = HttpSender(policy)
    response = await sender.send(OutgoingRequest("https://rebind.example/hook", b"{}"))
    await sender.close()
    assert response.status == 0
    assert response.error.startswith("destination refused")
    assert "127.0.0.1" in response.error


@pytest.mark.parametrize("url", ["http://2130706433/x", "http://[::1]/x", "http://10.1.2.3/x"])
async def test_the_sender_refuses_literals_too(url: str) -> None:
    sender = HttpSender(AddressPolicy(resolver=resolver()))
    response = await sender.send(OutgoingRequest(url, b"{}"))
    await sender.close()
    assert response.status == 0
    assert "destination refused" in response.error or "invalid URL" in response.error


async def test_one_lookup_per_request_and_the_connection_goes_to_the_checked_address() -> None:
    """The receiver is on loopback, allowed by range. The name answers loopback once, then a
    private address: the first request reaches the receiver (Host header kept), the second is
    refused — the answer checked is the answer used."""
    dns = ScriptedResolver({"receiver.test": [["127.0.0.1"], ["10.9.9.9"]]})
    policy = AddressPolicy.parse(["127.0.0.0/8"], resolver=dns)
    sender = HttpSender(policy)
    async with running_receiver(Receiver(secrets=[])) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        url = f"http://receiver.test:{port}/hook"
        first = await sender.send(OutgoingRequest(url, b"{}"))
        second = await sender.send(OutgoingRequest(url, b"{}"))
    await sender.close()
    assert first.status == 400  # reached the receiver, which wanted a signature
    assert receiver.unverified[0]["host"] == f"receiver.test:{port}"
    assert dns.calls == ["receiver.test", "receiver.test"]
    assert second.status == 0 and "10.9.9.9" in second.error
    assert len(receiver.unverified) == 1


async def test_host_names_sharing_an_address_never_share_a_connection() -> None:
    """Two tenants' names on one address (a CDN) get separate pools: a connection made (and,
    for https, verified) for one name never carries the other's requests."""
    dns = ScriptedResolver({"a.test": [["127.0.0.1"]], "b.test": [["127.0.0.1"]]})
    sender = HttpSender(AddressPolicy.parse(["127.0.0.0/8"], resolver=dns))
    async with running_receiver(Receiver(secrets=[])) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        for host in ("a.test", "b.test", "a.test"):
            answer = await sender.send(OutgoingRequest(f"http://{host}:{port}/hook", b"{}"))
            assert answer.status == 400
    assert sender.transports.pool_count == 2
    await sender.close()
    assert [h["host"] for h in receiver.unverified] == [
        f"a.test:{port}",
        f"b.test:{port}",
        f"a.test:{port}",
    ]


async def test_the_operator_allowlist_admits_hosts(
    engine: AsyncEngine, bus: EventBus, tmp_path: Path
) -> None:
    tenant_id = await seed_tenant(engine)
    services = build_test_webhooks(
        webhook_settings(tmp_path, allow="internal.example,10.0.0.0/8"),
        engine,
        bus,
        SystemClock(),
        resolver=resolver(),
    )
    for url in ("http://internal.example/hook", "http://10.0.0.5/hook"):
        made = await services.endpoints.create(admin(tenant_id), tenant_id, EndpointDraft(url=url))
        assert made.endpoint.url == url
    with pytest.raises(InvalidArgument):
        await services.endpoints.create(
            admin(tenant_id), tenant_id, EndpointDraft(url="http://127.0.0.1/hook")
        )
    await services.close()
