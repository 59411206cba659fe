"""Destination rules for user-chosen URLs: address spellings, ranges, names, allowlists."""

from __future__ import annotations

import ipaddress

import pytest

from linktor.adapterkit.netguard import (
    AddressPolicy,
    BlockedDestination,
    IPAddress,
    UnresolvableHost,
    is_public,
    parse_ip_host,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("fe80::1%eth0", "fe80::1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_every_literal_spelling_is_recognised(host: str, address: str) -> None:
    assert parse_ip_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "256.1.1.1", "09.1.1.1", "1.2.3.4.5", "a.0x1"])
def test_names_are_not_literals(host: str) -> None:
    assert parse_ip_host(host) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.0.0.1",  # private
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # link-local: cloud metadata
        "100.100.100.200",  # shared address space (a metadata service lives there too)
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "ff02::1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::10.0.0.1",  # IPv4-compatible
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


class FakeResolver:
    """A resolver answering from a dict, recording what it was asked."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        if host not in self.answers:
            raise UnresolvableHost(host)
        return [ipaddress.ip_address(a) for a in self.answers[host]]


async def test_a_name_passes_only_when_every_address_is_public() -> None:
    resolve = FakeResolver(
        {
            "public.example": ["93.184.216.34"],
            "internal.example": ["10.0.0.7"],
            "mixed.example": ["93.184.216.34", "127.0.0.1"],
            "empty.example": [],
        }
    )
    policy = AddressPolicy(resolver=resolve)
    assert await policy.destinations("public.example", 443) == [
        ipaddress.ip_address("93.184.216.34")
    ]
    for host in ("internal.example", "mixed.example"):
        with pytest.raises(BlockedDestination):
            await policy.destinations(host, 443)
    for host in ("empty.example", "nowhere.example"):
        with pytest.raises(UnresolvableHost):
            await policy.destinations(host, 443)


async def test_literals_and_metadata_names_are_judged_without_a_lookup() -> None:
    resolve = FakeResolver({"metadata.google.internal": ["8.8.8.8"]})
    policy = AddressPolicy(resolver=resolve)
    for host in ("2130706433", "0177.0.0.1", "::1", "metadata.google.internal"):
        with pytest.raises(BlockedDestination):
            await policy.destinations(host, 80)
    assert resolve.calls == []


async def test_the_operator_allowlist_admits_names_and_ranges() -> None:
    resolve = FakeResolver({"receiver.internal": ["10.1.2.3"], "other.internal": ["10.9.9.9"]})
    policy = AddressPolicy.parse(["Receiver.Internal.", "127.0.0.0/8", "::1"], resolver=resolve)
    assert await policy.destinations("receiver.internal", 80)
    assert await policy.destinations("127.0.0.1", 80)
    assert await policy.destinations("2130706433", 80)  # a spelling of 127.0.0.1 is in range
    assert await policy.destinations("[::1]", 80)
    with pytest.raises(BlockedDestination):
        await policy.destinations("other.internal", 80)
    with pytest.raises(BlockedDestination):
        await policy.destinations("10.0.0.1", 80)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not a host", "a..b"])
def test_bad_allowlist_entries_are_named(entry: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        AddressPolicy.parse([entry])
