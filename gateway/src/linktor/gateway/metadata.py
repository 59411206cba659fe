"""HTTP headers <-> gRPC metadata: which headers are forwarded, and how.

Request headers become metadata by these rules (the same as grpc-gateway's defaults, plus
the few headers Linktor relies on):

- ``Authorization`` and ``X-Request-Id`` are forwarded under their own (lowercase) names,
  and so is every name in ``ForwardingRules.extra_headers``.
- ``Grpc-Metadata-<key>: v`` is forwarded as ``<key>: v``; a key ending in ``-bin`` carries
  base64 and is forwarded as bytes.
- ``X-Forwarded-For`` is forwarded with the client's address appended; ``X-Forwarded-Host``
  is set from ``Host`` when absent.
- ``Grpc-Timeout`` (gRPC wire format, e.g. ``500m``, ``5S``) sets the call's deadline.
- Everything else (cookies, content negotiation, hop-by-hop headers) is not forwarded.

Response metadata comes back as ``Grpc-Metadata-<key>`` headers (initial metadata) and
``Grpc-Trailer-<key>`` headers (trailing metadata), binary values in base64.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from linktor.gateway.status import STATUS_DETAILS_KEY, BadRequest, Metadata

METADATA_PREFIX = "grpc-metadata-"
_VALID_KEY = re.compile(r"[0-9a-z_.\-]+")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
# Reserved by gRPC or HTTP/2: never forwarded even when asked for with Grpc-Metadata-.
_RESERVED = ("grpc-", ":")
_RESERVED_NAMES = {"content-type", "te", "user-agent", "connection", "host"}


@dataclass(frozen=True)
class ForwardingRules:
    extra_headers: frozenset[str] = field(default_factory=frozenset)
    default_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class CallMetadata:
    metadata: tuple[tuple[str, str | bytes], ...]
    timeout: float | None


def parse_grpc_timeout(value: str) -> float:
    match = _TIMEOUT.fullmatch(value.strip())
    if match is None:
        raise BadRequest(f"Grpc-Timeout {value!r} is not <1-8 digits><H|M|S|m|u|n>", "Grpc-Timeout")
    return int(match.group(1)) * _TIMEOUT_UNITS[match.group(2)]


def _metadata_pair(key: str, value: str) -> tuple[str, str | bytes]:
    if not _VALID_KEY.fullmatch(key) or key.startswith(_RESERVED) or key in _RESERVED_NAMES:
        raise BadRequest(f"header {METADATA_PREFIX}{key!r} names reserved or invalid metadata", key)
    if key.endswith("-bin"):
        try:
            return key, base64.b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise BadRequest(f"header {METADATA_PREFIX}{key} is not base64", key) from None
    if not _PRINTABLE.fullmatch(value):
        raise BadRequest(f"header {METADATA_PREFIX}{key} has non-printable characters", key)
    return key, value


def request_metadata(
    headers: Iterable[tuple[bytes, bytes]],
    client_host: str | None,
    rules: ForwardingRules,
) -> CallMetadata:
    """Metadata and timeout for the gRPC call from the HTTP request headers."""
    out: list[tuple[str, str | bytes]] = []
    timeout = rules.default_timeout
    forwarded_for = ""
    host = ""
    has_forwarded_host = False
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in ("authorization", "x-request-id") or name in rules.extra_headers:
            out.append((name, value))
        elif name.startswith(METADATA_PREFIX):
            out.append(_metadata_pair(name[len(METADATA_PREFIX) :], value))
        elif name == "x-forwarded-for":
            forwarded_for = f"{forwarded_for}, {value}" if forwarded_for else value
        elif name == "host":
            host = value
        elif name == "x-forwarded-host":
            has_forwarded_host = True
            out.append((name, value))
        elif name == "grpc-timeout":
            timeout = parse_grpc_timeout(value)
    if client_host:
        forwarded_for = f"{forwarded_for}, {client_host}" if forwarded_for else client_host
    if forwarded_for:
        out.append(("x-forwarded-for", forwarded_for))
    if host and not has_forwarded_host:
        out.append(("x-forwarded-host", host))
    return CallMetadata(tuple(out), timeout)


def _header_value(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return base64.b64encode(value)
    return value.encode("latin-1", errors="replace")


def response_headers(initial: Metadata, trailing: Metadata) -> list[tuple[bytes, bytes]]:
    """HTTP headers carrying the call's response metadata."""
    headers = [(f"grpc-metadata-{k}".encode(), _header_value(v)) for k, v in initial]
    headers += [
        (f"grpc-trailer-{k}".encode(), _header_value(v))
        for k, v in trailing
        if k != STATUS_DETAILS_KEY
    ]
    return headers


def client_host(scope_client: Sequence[object] | None) -> str | None:
    if scope_client and isinstance(scope_client[0], str):
        return scope_client[0]
    return None
