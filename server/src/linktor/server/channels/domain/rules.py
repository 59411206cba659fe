"""Rules for the values a channel holds; each check reports FieldViolations (paths relative to
the channel, e.g. ``allowed_origins[1]``) so a request can be told everything wrong at once."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from linktor.server.shared.errors import FieldViolation

MAX_DISPLAY_NAME = 100
MAX_CONFIG_BYTES = 64 * 1024
MAX_SECRETS = 32
MAX_SECRET_BYTES = 16 * 1024
MAX_ORIGINS = 50
MAX_ADAPTER_ADDRESS = 255
# Far above any provider's limit; keeps token-bucket arithmetic sane.
MAX_RATE_PER_SECOND = 100_000.0

_SECRET_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
# Browsers send http origins for local development only.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def display_name(value: str, violations: list[FieldViolation]) -> str:
    name = value.strip()
    if not name:
        violations.append(FieldViolation("display_name", "is required"))
    elif len(name) > MAX_DISPLAY_NAME:
        violations.append(
            FieldViolation("display_name", f"must be at most {MAX_DISPLAY_NAME} characters")
        )
    return name


def config(value: Mapping[str, Any], violations: list[FieldViolation]) -> dict[str, Any]:
    """A JSON object of bounded size."""
    try:
        size = len(json.dumps(value, separators=(",", ":")).encode())
    except (TypeError, ValueError):
        violations.append(FieldViolation("config", "must be a JSON object"))
        return {}
    if size > MAX_CONFIG_BYTES:
        violations.append(
            FieldViolation("config", f"must be at most {MAX_CONFIG_BYTES // 1024} KiB as JSON")
        )
    return dict(value)


def secret_keys(keys: Iterable[str], violations: list[FieldViolation]) -> None:
    """Names of secrets: lowercase identifiers, as adapters document them."""
    for key in keys:
        if not _SECRET_KEY.match(key):
            violations.append(
                FieldViolation(
                    f"secrets.{key}" if key else "secrets",
                    "keys are lowercase letters, digits and _ (starting with a letter),"
                    " at most 64 characters",
                )
            )


def secrets(values: Mapping[str, str], violations: list[FieldViolation]) -> None:
    """Secret values as given in a request (an empty value means "delete this key")."""
    secret_keys(values, violations)
    if len(values) > MAX_SECRETS:
        violations.append(FieldViolation("secrets", f"at most {MAX_SECRETS} secrets"))
    for key, value in values.items():
        if len(value.encode()) > MAX_SECRET_BYTES:
            violations.append(
                FieldViolation(f"secrets.{key}", f"must be at most {MAX_SECRET_BYTES} bytes")
            )


def origin(value: str) -> str | None:
    """The canonical form of a web origin (``https://shop.example.com``, port kept when not
    the default), or None when it is not one. http is accepted for localhost only."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if (
        parts.scheme not in ("https", "http")
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return None
    shown_host = f"[{host}]" if ":" in host else host
    if parts.scheme == "http" and shown_host not in _LOCAL_HOSTS:
        return None
    if ":" not in host and not _HOST.match(host):
        return None
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    default_port = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{shown_host}{suffix}"


def allowed_origins(values: Iterable[str], violations: list[FieldViolation]) -> tuple[str, ...]:
    """Canonical, de-duplicated origins in the order given."""
    result: list[str] = []
    for index, value in enumerate(values):
        canonical = origin(value)
        if canonical is None:
            violations.append(
                FieldViolation(
                    f"allowed_origins[{index}]",
                    f"{value[:100]!r} is not a web origin: use https://HOST[:PORT] (no path),"
                    " or http://localhost[:PORT] for development",
                )
            )
        elif canonical not in result:
            result.append(canonical)
    if len(result) > MAX_ORIGINS:
        violations.append(FieldViolation("allowed_origins", f"at most {MAX_ORIGINS} origins"))
    return tuple(result)


def adapter_address(value: str, violations: list[FieldViolation]) -> str:
    """Empty (the built-in adapter), ``host:port``, ``tls://host:port`` or ``unix:/path``."""
    address = value.strip()
    if not address:
        return ""
    if address.startswith("unix:"):
        if len(address) > MAX_ADAPTER_ADDRESS or not address.startswith("unix:/"):
            violations.append(FieldViolation("adapter_address", "unix: needs an absolute path"))
        return address
    rest = address.removeprefix("tls://")
    host, sep, port = rest.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if (
        len(address) > MAX_ADAPTER_ADDRESS
        or not sep
        or not host
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or "/" in rest
    ):
        violations.append(
            FieldViolation(
                "adapter_address",
                "must be HOST:PORT, tls://HOST:PORT or unix:/PATH of a remote adapter, or empty"
                " for the built-in one",
            )
        )
    return address


def rate_limit(per_second: float, burst: int, violations: list[FieldViolation]) -> None:
    if not math.isfinite(per_second) or not 0 <= per_second <= MAX_RATE_PER_SECOND:
        violations.append(
            FieldViolation(
                "rate_limit.per_second",
                f"must be between 0 (the provider's default) and {MAX_RATE_PER_SECOND:g}",
            )
        )
    if burst < 0:
        violations.append(
            FieldViolation("rate_limit.burst", "must not be negative (0: same as per_second)")
        )
