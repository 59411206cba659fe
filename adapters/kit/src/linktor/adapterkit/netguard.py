"""Which network destinations a URL chosen by a user may reach (SSRF protection).

Shared by the adapters' provider client (``linktor.adapterkit.http``) and the server's
outbound webhooks; it imports nothing but the standard library.

- Only public unicast addresses pass: private, loopback, link-local (cloud metadata at
  169.254.169.254 included), shared (100.64/10), multicast, unspecified, reserved and
  documentation ranges are refused, for IPv4 and IPv6 alike. An IPv6 address that embeds an
  IPv4 one (IPv4-mapped, IPv4-compatible, 6to4, NAT64) is judged by the embedded address too.
- A host that is an IP literal is recognised in every spelling resolvers accept, not just the
  dotted quad: ``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1`` all mean 127.0.0.1.
- A host name is resolved once; it passes only when EVERY address it resolves to passes (an
  attacker's name that answers one public and one private address is refused), and the
  caller then connects to one of those checked addresses, never resolving again (so a second,
  different answer — DNS rebinding — is never used).
- Operators may allow host names (exactly, case-insensitive) or address ranges on top
  (``AddressPolicy.parse(["localhost", "10.1.0.0/16"])``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that reach instance metadata services without looking like an address.
METADATA_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class BlockedDestination(Exception):
    """The destination is not one this policy lets a user-chosen URL reach."""


class UnresolvableHost(Exception):
    """The host name does not resolve."""


class Resolver(Protocol):
    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to (empty or UnresolvableHost when none)."""
        ...


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The operating system's resolver (getaddrinfo), without blocking the event loop."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(f"cannot resolve {host}: {exc}") from exc
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def _inet_aton_part(text: str) -> int:
    """One part of a BSD inet_aton spelling: decimal, octal (leading 0) or hex (0x)."""
    if text[:2].lower() == "0x":
        digits, base = text[2:], 16
    elif len(text) > 1 and text[0] == "0":
        digits, base = text[1:], 8
    else:
        digits, base = text, 10
    if not digits and base == 16:
        return 0  # "0x" alone is 0 to inet_aton
    return int(digits, base)


def _loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address of inet_aton's spellings (1 to 4 parts, the last filling the rest),
    or None when ``host`` is not one of them."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    try:
        values = [_inet_aton_part(part) for part in parts]
    except ValueError:
        return None
    *leading, last = values
    if any(v > 0xFF for v in leading) or last >= 1 << (8 * (5 - len(parts))):
        return None
    number = 0
    for value in leading:
        number = number << 8 | value
    number = number << (8 * (5 - len(parts))) | last
    return ipaddress.IPv4Address(number)


def parse_ip_host(host: str) -> IPAddress | None:
    """The address ``host`` (a URL's host) spells, in any spelling a resolver accepts as a
    literal; None for a host name."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.rstrip(".")
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    return _loose_ipv4(text)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (see the module docstring)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
    )


def normalize_host(host: str) -> str:
    """A host name as compared with allowlists: lowercase, without a trailing dot."""
    return host.strip().lower().rstrip(".")


@dataclass(frozen=True)
class AddressPolicy:
    """Public destinations, plus what the operator allows explicitly."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def parse(cls, entries: Iterable[str], resolver: Resolver | None = None) -> AddressPolicy:
        """From operator entries: host names, addresses or CIDR ranges. ValueError names a
        bad entry."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            if "/" in entry or parse_ip_host(entry) is not None:
                literal = parse_ip_host(entry) if "/" not in entry else None
                try:
                    networks.append(ipaddress.ip_network(str(literal or entry), strict=False))
                except ValueError:
                    raise ValueError(f"{entry!r} is not an address range") from None
            elif all(_LABEL.match(part) for part in normalize_host(entry).split(".")):
                hosts.add(normalize_host(entry))
            else:
                raise ValueError(f"{entry!r} is not a host name, address or range")
        return cls(frozenset(hosts), tuple(networks), resolver or system_resolver)

    def allows_host(self, host: str) -> bool:
        return normalize_host(host) in self.allowed_hosts

    def permits(self, address: IPAddress) -> bool:
        if any(address in network for network in self.allowed_networks):
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            mapped = address.ipv4_mapped
            if any(mapped in network for network in self.allowed_networks):
                return True
        return is_public(address)

    async def destinations(self, host: str, port: int) -> list[IPAddress]:
        """The checked addresses to connect to for ``host`` (resolved once), in resolver
        order; BlockedDestination or UnresolvableHost otherwise."""
        literal = parse_ip_host(host)
        if literal is not None:
            if not self.permits(literal):
                raise BlockedDestination(f"{host} is not a public address")
            return [literal]
        name = normalize_host(host)
        if not name:
            raise BlockedDestination("the URL has no host")
        if name in METADATA_HOSTNAMES and not self.allows_host(name):
            raise BlockedDestination(f"{host} is a cloud metadata service")
        addresses = await self.resolver(name, port)
        if not addresses:
            raise UnresolvableHost(f"{host} resolves to no address")
        if self.allows_host(name):
            return list(addresses)
        refused = [a for a in addresses if not self.permits(a)]
        if refused:
            raise BlockedDestination(f"{host} resolves to a non-public address ({refused[0]})")
        return list(addresses)
