"""Channel configuration checks that produce google.rpc.BadRequest.FieldViolation lists.

Every violation names its field the way the core shows it to people: ``config.<key>`` for
non-secret configuration, ``secrets.<key>`` for secrets. A :class:`ConfigCheck` reads values
while it checks them, so one pass both validates and builds the normalized configuration::

    check = ConfigCheck(request.channel)
    phone_id = check.string("phone_number_id", required=True, pattern=r"\\d+")
    check.secret("access_token", required=True)
    version = check.string("api_version", default="v21.0")
    return check.response()          # violations, or the normalized config when valid

Secret values are never echoed in descriptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from google.protobuf import json_format, struct_pb2
from google.rpc import error_details_pb2

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.netguard import is_public, parse_ip_host

FieldViolation = error_details_pb2.BadRequest.FieldViolation
_T = TypeVar("_T")


def violation(field: str, description: str) -> FieldViolation:
    """One FieldViolation, e.g. ``violation("config.phone_number_id", "is required")``."""
    return FieldViolation(field=field, description=description)


class ConfigCheck:
    """Reads and checks one ChannelConfig, collecting violations instead of raising."""

    def __init__(self, channel: adapter_pb2.ChannelConfig) -> None:
        self.channel = channel
        self._config: dict[str, Any] = json_format.MessageToDict(channel.config)
        self.violations: list[FieldViolation] = []
        # The configuration as it should be stored: checked keys, trimmed, defaults filled.
        self.normalized: dict[str, Any] = {}

    @property
    def ok(self) -> bool:
        return not self.violations

    def raw(self, key: str) -> Any:
        """The value of ``config.<key>`` as JSON (None when absent), unchecked."""
        return self._config.get(key)

    def add(self, field: str, description: str) -> None:
        """Record a violation found by the adapter's own logic (path as the user sees it)."""
        self.violations.append(violation(field, description))

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        pattern: str | None = None,
        choices: Sequence[str] | None = None,
        max_length: int = 1024,
    ) -> str | None:
        """A string from ``config``, trimmed; None when absent (and not required)."""
        path = f"config.{key}"
        raw = self._config.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return self._absent(path, key, required, default)
        if not isinstance(raw, str):
            self.add(path, f"must be a string, got {_json_type(raw)}")
            return None
        value = raw.strip()
        if len(value) > max_length:
            self.add(path, f"must be at most {max_length} characters")
        elif pattern is not None and not re.fullmatch(pattern, value):
            self.add(path, f"must match {pattern}")
        elif choices is not None and value not in choices:
            self.add(path, f"must be one of {', '.join(choices)}")
        else:
            self.normalized[key] = value
            return value
        return None

    def number(
        self,
        key: str,
        *,
        required: bool = False,
        default: float | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        integer: bool = False,
    ) -> float | None:
        """A number from ``config`` (JSON numbers are floats in a Struct)."""
        path = f"config.{key}"
        raw = self._config.get(key)
        if raw is None:
            return self._absent(path, key, required, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.add(path, f"must be a number, got {_json_type(raw)}")
            return None
        value = float(raw)
        if integer and not value.is_integer():
            self.add(path, "must be a whole number")
        elif minimum is not None and value < minimum:
            self.add(path, f"must be at least {_show(minimum)}")
        elif maximum is not None and value > maximum:
            self.add(path, f"must be at most {_show(maximum)}")
        else:
            self.normalized[key] = int(value) if integer else value
            return value
        return None

    def boolean(self, key: str, *, default: bool | None = None) -> bool | None:
        """A boolean from ``config``."""
        path = f"config.{key}"
        raw = self._config.get(key)
        if raw is None:
            return self._absent(path, key, False, default)
        if not isinstance(raw, bool):
            self.add(path, f"must be true or false, got {_json_type(raw)}")
            return None
        self.normalized[key] = raw
        return raw

    def url(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        schemes: Sequence[str] = ("https",),
        allow_private: bool = False,
    ) -> str | None:
        """An absolute URL from ``config``; by default https to a public host name or IP."""
        value = self.string(key, required=required, default=default, max_length=2048)
        if value is None:
            return None
        path = f"config.{key}"
        problem = url_problem(value, schemes=schemes, allow_private=allow_private)
        if problem:
            self.normalized.pop(key, None)
            self.add(path, problem)
            return None
        return value

    def secret(self, key: str, *, required: bool = False, min_length: int = 1) -> str | None:
        """A value from ``secrets`` (never copied into the normalized config)."""
        path = f"secrets.{key}"
        value = self.channel.secrets.get(key, "")
        if not value.strip():
            if required:
                self.add(path, "is required")
            return None
        if len(value) < min_length:
            self.add(path, f"must be at least {min_length} characters")
            return None
        return value

    def reject_unknown(self, known: Iterable[str]) -> None:
        """Flag ``config`` keys the adapter does not know (typos would otherwise pass)."""
        allowed = set(known)
        for key in sorted(set(self._config) - allowed):
            self.add(f"config.{key}", "is not a known setting of this channel type")

    def response(self) -> adapter_pb2.ValidateConfigResponse:
        """Violations when there are any; otherwise the normalized configuration."""
        if self.violations:
            return adapter_pb2.ValidateConfigResponse(violations=self.violations)
        normalized = struct_pb2.Struct()
        normalized.update(self.normalized)
        return adapter_pb2.ValidateConfigResponse(normalized_config=normalized)

    def _absent(self, path: str, key: str, required: bool, default: _T | None) -> _T | None:
        if required:
            self.add(path, "is required")
            return None
        if default is not None:
            self.normalized[key] = default
        return default


def check_declared_fields(
    channel: adapter_pb2.ChannelConfig, fields: Iterable[adapter_pb2.ConfigField]
) -> ConfigCheck:
    """A ConfigCheck of what GetCapabilities declares: required keys present, defaults
    filled in, unknown ``config`` keys flagged. Adapters add their own rules on top."""
    check = ConfigCheck(channel)
    declared = list(fields)
    for field in declared:
        if field.secret:
            check.secret(field.key, required=field.required)
        elif (value := check.raw(field.key)) is not None:
            check.normalized[field.key] = value.strip() if isinstance(value, str) else value
            if field.required and isinstance(value, str) and not value.strip():
                check.add(f"config.{field.key}", "is required")
        elif field.required:
            check.add(f"config.{field.key}", "is required")
        elif field.default_value:
            check.normalized[field.key] = field.default_value
    check.reject_unknown(f.key for f in declared if not f.secret)
    return check


def url_problem(
    value: str, *, schemes: Sequence[str] = ("https",), allow_private: bool = False
) -> str | None:
    """Why ``value`` is not an acceptable provider URL, or None.

    Literal private, loopback and link-local IPs are refused unless ``allow_private``
    (host names are resolved and checked at request time by linktor.adapterkit.http).
    """
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        return f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}"
    if not parts.hostname:
        return "must include a host name"
    if parts.username or parts.password:
        return "must not contain credentials; put them in secrets"
    if not allow_private:
        # Every literal spelling (2130706433, 0177.0.0.1 ...), by the rules of netguard.
        address = parse_ip_host(parts.hostname)
        if address is not None and not is_public(address):
            return "must not point to a private, loopback or link-local address"
    return None


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
