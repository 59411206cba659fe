"""The channel configuration of a WhatsApp channel: keys, defaults, validation.

Non-secret keys live in ``ChannelConfig.config`` (a Struct), secrets in
``ChannelConfig.secrets``. Validation reports one FieldViolation per problem, with the
path a person sees in forms and API errors (``config.phone_number_id``,
``secrets.access_token``) and a sentence that says how to fix it. Secret values never
appear in a message.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from google.protobuf import json_format, struct_pb2
from google.rpc import error_details_pb2

from linktor.adapter.v1 import adapter_pb2

DEFAULT_API_VERSION = "v26.0"
DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com"

_NUMERIC_ID = re.compile(r"^[0-9]{5,32}$")
_API_VERSION = re.compile(r"^v[0-9]{1,3}\.[0-9]$")

FieldViolation = error_details_pb2.BadRequest.FieldViolation


@dataclass(frozen=True)
class ConfigKey:
    """A configuration key the adapter accepts (drives ConfigField and the docs)."""

    key: str
    secret: bool
    required: bool
    description: str
    default: str = ""


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "phone_number_id",
        secret=False,
        required=True,
        description="The Phone number ID of the business number (WhatsApp Manager > "
        "API Setup), not the phone number itself.",
    ),
    ConfigKey(
        "waba_id",
        secret=False,
        required=True,
        description="The WhatsApp Business Account ID that owns the number and its "
        "message templates.",
    ),
    ConfigKey(
        "api_version",
        secret=False,
        required=False,
        description="The Graph API version to call, for example v26.0.",
        default=DEFAULT_API_VERSION,
    ),
    ConfigKey(
        "graph_base_url",
        secret=False,
        required=False,
        description="The Graph API base URL. Change it only to point at a test double.",
        default=DEFAULT_GRAPH_BASE_URL,
    ),
    ConfigKey("app_id", secret=False, required=False, description="The Meta app ID."),
    ConfigKey(
        "access_token",
        secret=True,
        required=True,
        description="A permanent System User access token with the "
        "whatsapp_business_messaging and whatsapp_business_management permissions.",
    ),
    ConfigKey(
        "app_secret",
        secret=True,
        required=True,
        description="The Meta app's App Secret (App settings > Basic); signs webhooks.",
    ),
    ConfigKey(
        "verify_token",
        secret=True,
        required=True,
        description="Any string you choose; enter the same value as the Verify token "
        "when configuring the webhook in the Meta app.",
    ),
)


@dataclass(frozen=True)
class WhatsAppConfig:
    """A validated channel configuration."""

    phone_number_id: str
    waba_id: str
    api_version: str
    graph_base_url: str
    app_id: str
    access_token: str
    app_secret: str
    verify_token: str

    def normalized(self) -> struct_pb2.Struct:
        """The non-secret configuration as the core should store it (defaults filled in)."""
        values = {
            "phone_number_id": self.phone_number_id,
            "waba_id": self.waba_id,
            "api_version": self.api_version,
            "graph_base_url": self.graph_base_url,
        }
        if self.app_id:
            values["app_id"] = self.app_id
        result = struct_pb2.Struct()
        result.update(values)
        return result


class InvalidConfigError(Exception):
    """The channel configuration cannot be used; ``violations`` says why."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))


def _config_value(config: struct_pb2.Struct, key: str) -> str:
    """A config value as a trimmed string; numbers typed as JSON numbers are accepted."""
    if key not in config.fields:
        return ""
    value = json_format.MessageToDict(config.fields[key])
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return ""


def _check_graph_base_url(url: str) -> str | None:
    """Why the URL cannot be used, or None. Plain http is allowed on loopback only (tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute URL such as https://graph.facebook.com"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "must not carry a query, fragment or credentials"
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return "must use https (plain http is accepted only for 127.0.0.1 and ::1 in tests)"
    return None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_config(channel: adapter_pb2.ChannelConfig) -> WhatsAppConfig:
    """Validates a channel configuration; raises InvalidConfigError with every problem."""
    violations: list[FieldViolation] = []

    def violate(field: str, description: str) -> None:
        violations.append(FieldViolation(field=field, description=description))

    values = {k.key: _config_value(channel.config, k.key) for k in CONFIG_KEYS if not k.secret}
    secrets = {k.key: channel.secrets.get(k.key, "") for k in CONFIG_KEYS if k.secret}

    for key in CONFIG_KEYS:
        present = secrets[key.key] if key.secret else values[key.key]
        if key.required and not present:
            where = "secrets" if key.secret else "config"
            violate(f"{where}.{key.key}", f"is required: {key.description}")

    for where, secret, keys in (
        ("config", False, set(channel.config.fields)),
        ("secrets", True, set(channel.secrets)),
    ):
        accepted = {k.key for k in CONFIG_KEYS if k.secret == secret}
        misplaced = {k.key for k in CONFIG_KEYS if k.secret != secret}
        for name in sorted(keys - accepted):
            if name in misplaced:
                other = "config" if secret else "secrets"
                violate(f"{where}.{name}", f"belongs in {other}, not in {where}")
            else:
                # Usually a typo; naming the accepted keys makes it obvious.
                violate(
                    f"{where}.{name}",
                    "is not a WhatsApp setting; accepted: " + ", ".join(sorted(accepted)),
                )

    for name in ("phone_number_id", "waba_id", "app_id"):
        if values[name] and not _NUMERIC_ID.match(values[name]):
            violate(
                f"config.{name}",
                "must be the numeric ID Meta shows (digits only), for example 106540352242922",
            )
    api_version = values["api_version"] or DEFAULT_API_VERSION
    if not _API_VERSION.match(api_version):
        violate(
            "config.api_version",
            f"must look like {DEFAULT_API_VERSION} (a 'v', major and minor version)",
        )
    graph_base_url = (values["graph_base_url"] or DEFAULT_GRAPH_BASE_URL).rstrip("/")
    url_problem = _check_graph_base_url(graph_base_url)
    if url_problem:
        violate("config.graph_base_url", url_problem)
    token = secrets["access_token"]
    if token and (token != token.strip() or any(c.isspace() for c in token)):
        violate(
            "secrets.access_token",
            "contains spaces or line breaks; paste the token alone, without 'Bearer'",
        )
    if violations:
        raise InvalidConfigError(violations)
    return WhatsAppConfig(
        phone_number_id=values["phone_number_id"],
        waba_id=values["waba_id"],
        api_version=api_version,
        graph_base_url=graph_base_url,
        app_id=values["app_id"],
        access_token=token,
        app_secret=secrets["app_secret"],
        verify_token=secrets["verify_token"],
    )
