"""Configuration from the environment (``LINKTOR_*``) and an optional file.

Validated once at start. A bad value stops the process with ONE line naming the variable and
the problem (see :class:`ConfigError`), never a traceback. Unset URLs select the embedded
backends: SQLite under the data dir, the in-process bus, in-memory rate limits.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from linktor.server.plugins.registry import parse_adapter_commands

ENV_PREFIX = "LINKTOR_"


class ConfigError(Exception):
    """A configuration value is invalid; the message names the variable."""


def _host_port(value: str, *, variable: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be HOST:PORT (for example 127.0.0.1:{variable}), got {value!r}")
    return value


def decode_secrets_key(text: str) -> bytes:
    """One LINKTOR_SECRETS_KEY entry: base64 (standard or URL-safe, padding optional) of 32
    random bytes, e.g. from `openssl rand -base64 32`."""
    value = text.strip()
    try:
        raw = base64.urlsafe_b64decode(
            value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4)
        )
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            "each key must be the base64 of 32 random bytes (`openssl rand -base64 32`);"
            " separate several with commas, the first encrypts"
        )
    return raw


class PlanSettings(BaseModel):
    """One plan's limits (0 = unlimited) and feature flags; see docs/auth.md#plans."""

    model_config = {"frozen": True, "extra": "forbid"}

    display_name: str = ""
    messages_per_month: int = Field(0, ge=0)
    channels: int = Field(0, ge=0)
    agents: int = Field(0, ge=0)
    api_keys: int = Field(0, ge=0)
    features: dict[str, bool] = Field(default_factory=dict)


def _default_plans() -> dict[str, PlanSettings]:
    return {
        "free": PlanSettings(
            display_name="Free",
            messages_per_month=1_000,
            channels=2,
            agents=3,
            api_keys=2,
            features={"webhooks": True, "analytics": False, "sso": False},
        ),
        "pro": PlanSettings(
            display_name="Pro",
            messages_per_month=100_000,
            channels=20,
            agents=25,
            api_keys=20,
            features={"webhooks": True, "analytics": True, "sso": False},
        ),
        "enterprise": PlanSettings(
            display_name="Enterprise",
            features={"webhooks": True, "analytics": True, "sso": True},
        ),
    }


class Settings(BaseSettings):
    """Every setting of the server. Field names map to ``LINKTOR_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="ignore", frozen=True
    )

    grpc_addr: str = Field("127.0.0.1:9090", description="gRPC listen address HOST:PORT.")
    http_addr: str = Field("127.0.0.1:8080", description="HTTP listen address HOST:PORT.")
    data_dir: Path = Field(Path(".linktor"), description="Where embedded state lives.")
    database_url: str | None = Field(
        None, description="postgresql+asyncpg://... or sqlite+aiosqlite:///...; unset = SQLite."
    )
    nats_url: str | None = Field(None, description="nats://HOST:PORT; unset = in-process bus.")
    redis_url: str | None = Field(None, description="redis://HOST:PORT/DB; unset = in-memory.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto",
        description="The event loop of `serve` and `worker`: auto = uvloop when installed"
        " (12-13 % less CPU per message, bench/README.md), else asyncio's.",
    )
    shutdown_grace_seconds: float = Field(8.0, gt=0, le=60)
    db_pool_size: int = Field(10, ge=1, le=200)
    workers: bool = Field(
        True, description="Run the relay, delivery and inbound workers in `linktor serve`."
    )
    migrate_on_start: bool | None = Field(
        None, description="Apply migrations at start; default: yes on SQLite, no otherwise."
    )
    # Identity and tenancy (docs/auth.md).
    jwt_secret: SecretStr | None = Field(
        None, description="HS* signing secret (32+ bytes); unset = jwt_key_file or generated."
    )
    jwt_key_file: Path | None = Field(
        None, description="File with the HS* secret or the RS256/ES256 PEM private key."
    )
    jwt_algorithm: Literal["HS256", "HS384", "HS512", "RS256", "ES256"] = "HS256"
    jwt_issuer: str = "linktor"
    jwt_audience: str = "linktor-api"
    access_token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(30 * 86_400, ge=3_600, le=365 * 86_400)
    password_setup_ttl_seconds: int = Field(
        72 * 3_600,
        ge=300,
        le=30 * 86_400,
        description="How long a password setup token (IssuePasswordSetup) works.",
    )
    auth_cache_ttl_seconds: float = Field(
        5.0, ge=0, le=60, description="How long a revoked key or role change may go unseen."
    )
    rate_limit_tenant_per_second: float = Field(100.0, gt=0)
    rate_limit_tenant_burst: int = Field(200, ge=1)
    rate_limit_api_key_per_second: float = Field(50.0, gt=0)
    rate_limit_api_key_burst: int = Field(100, ge=1)
    login_attempts_per_account_per_minute: int = Field(10, ge=1)
    login_attempts_per_address_per_minute: int = Field(30, ge=1)
    plans: dict[str, PlanSettings] = Field(default_factory=_default_plans)
    default_plan: str = "free"
    # Channels (docs/channels.md).
    secrets_key: SecretStr | None = Field(
        None,
        description="Keys encrypting channel secrets at rest (base64 of 32 bytes, comma-separated,"
        " the first encrypts); unset = generated under the data dir.",
    )
    public_url: str | None = Field(
        None,
        description="Base URL providers call (webhook URLs); unset = http://LINKTOR_HTTP_ADDR.",
    )
    # Web Chat (docs/channels/webchat.md).
    webchat_session_secret: SecretStr | None = Field(
        None,
        description="HMAC key of visitor session tokens (32+ bytes); unset = generated under"
        " the data dir (replicas must share one).",
    )
    # Media and attachments (docs/media.md).
    media_dir: Path | None = Field(
        None, description="Where attachment bytes are stored; unset = <data dir>/media."
    )
    media_url_secret: SecretStr | None = Field(
        None,
        description="HMAC key of attachment download URLs (32+ bytes); unset = generated under"
        " the data dir (replicas must share one).",
    )
    media_url_ttl_seconds: int = Field(
        900, ge=30, le=7 * 86_400, description="How long an attachment download URL works."
    )
    media_max_bytes: int = Field(
        100 * 1024 * 1024,
        ge=1024 * 1024,
        le=4 * 1024 * 1024 * 1024,
        description="Largest attachment (upload route, media received from contacts).",
    )
    # Delivery retries (docs/messaging.md, Delivery): exponential backoff with full jitter.
    delivery_retry_base_seconds: float = Field(
        1.0, gt=0, le=3600, description="Delay after a first failed delivery attempt."
    )
    delivery_retry_max_delay_seconds: float = Field(
        300.0, gt=0, le=86_400, description="Longest delay between two delivery attempts."
    )
    delivery_max_attempts: int = Field(
        12, ge=1, le=1000, description="Attempts before a message is FAILED."
    )
    # The event log (docs/events.md).
    event_retention_seconds: float = Field(
        7 * 86_400,
        gt=0,
        le=366 * 86_400,
        description="How long events are kept for ListEvents and for resuming a stream; older"
        " ones are deleted and resuming before them answers EVENT_SEQUENCE_EXPIRED.",
    )
    housekeeping_interval_seconds: float = Field(
        600.0,
        ge=1,
        le=86_400,
        description="How often expired events and idempotency keys are deleted.",
    )
    # Adapter plugins (docs/adapters.md).
    adapter_commands: dict[str, list[str]] = Field(
        default_factory=dict,
        description='JSON {"channel type": command}: adapters added to or replacing the built-in'
        " ones; a command is a string or a list of arguments.",
    )
    adapter_start_timeout_seconds: float = Field(15.0, gt=0, le=300)
    adapter_acquire_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="How long a call waits for a (re)starting adapter."
    )
    adapter_health_interval_seconds: float = Field(5.0, gt=0, le=300)
    adapter_restart_max_backoff_seconds: float = Field(30.0, gt=0, le=3600)
    adapter_min_port: int = Field(0, ge=0, le=65535, description="0 and 0: any free port.")
    adapter_max_port: int = Field(0, ge=0, le=65535)
    adapter_tls_ca_file: Path | None = Field(None, description="CA of tls:// remote adapters.")
    adapter_tls_cert_file: Path | None = Field(None, description="Client certificate (mTLS).")
    adapter_tls_key_file: Path | None = Field(None, description="Client key (mTLS).")
    # Outbound webhooks (docs/webhooks.md).
    webhook_allow_hosts: str = Field(
        "",
        description="Comma-separated host names, addresses or CIDR ranges webhook endpoints may"
        " reach besides public addresses (e.g. localhost,10.1.0.0/16).",
    )
    webhook_workers: int = Field(64, ge=1, le=4096, description="Concurrent webhook requests.")
    webhook_log_retention_days: int = Field(30, ge=1, le=3650)

    @field_validator("adapter_commands", mode="before")
    @classmethod
    def _adapter_commands(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return parse_adapter_commands(value)

    @field_validator("grpc_addr")
    @classmethod
    def _grpc_addr(cls, value: str) -> str:
        return _host_port(value, variable="9090")

    @field_validator("http_addr")
    @classmethod
    def _http_addr(cls, value: str) -> str:
        return _host_port(value, variable="8080")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme = urlsplit(value).scheme
        if scheme in ("postgres", "postgresql"):
            # Accept the libpq spelling people paste from elsewhere.
            value = "postgresql+asyncpg" + value[len(scheme) :]
            scheme = "postgresql+asyncpg"
        if scheme not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
            raise ValueError(
                f"unsupported scheme {scheme or '(none)'!r}; use postgresql://USER:PASS@HOST:PORT/DB"
                " or sqlite+aiosqlite:///PATH"
            )
        if scheme == "postgresql+asyncpg" and not urlsplit(value).hostname:
            raise ValueError("a PostgreSQL URL needs a host, e.g. postgresql://u:p@127.0.0.1/db")
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("nats", "tls") or not parts.hostname:
            raise ValueError(f"must look like nats://HOST:PORT, got {value!r}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError(f"must look like redis://HOST:PORT/DB, got {value!r}")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes (use `openssl rand -base64 48`)")
        return value

    @field_validator("webchat_session_secret", "media_url_secret")
    @classmethod
    def _webchat_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes (use `openssl rand -base64 48`)")
        return value

    @field_validator("secrets_key")
    @classmethod
    def _secrets_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for part in value.get_secret_value().split(","):
            decode_secrets_key(part)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"must be an http(s) URL such as https://linktor.example.com, got {value!r}"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"must not have a query or fragment, got {value!r}")
        return value.rstrip("/")

    @field_validator("webhook_allow_hosts")
    @classmethod
    def _webhook_allow_hosts(cls, value: str) -> str:
        from linktor.adapterkit.netguard import AddressPolicy  # only when the variable is set

        AddressPolicy.parse(value.split(","))  # ValueError names the bad entry
        return value

    @property
    def webhook_allowlist(self) -> list[str]:
        return [entry.strip() for entry in self.webhook_allow_hosts.split(",") if entry.strip()]

    @model_validator(mode="after")
    def _plans_known(self) -> Settings:
        if self.default_plan not in self.plans:
            raise ValueError(
                f"{ENV_PREFIX}DEFAULT_PLAN: {self.default_plan!r} is not one of the plans"
                f" {sorted(self.plans)} (LINKTOR_PLANS)"
            )
        if self.jwt_algorithm[:2] != "HS" and self.jwt_key_file is None:
            raise ValueError(
                f"{ENV_PREFIX}JWT_ALGORITHM: {self.jwt_algorithm} needs LINKTOR_JWT_KEY_FILE"
                " (a PEM private key)"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'linktor.db').resolve()}"

    @property
    def secrets_keys(self) -> list[bytes]:
        """The configured secrets-at-rest keys, the encrypting one first (empty: generate)."""
        if self.secrets_key is None:
            return []
        return [decode_secrets_key(part) for part in self.secrets_key.get_secret_value().split(",")]

    @property
    def effective_public_url(self) -> str:
        """Where providers reach this installation; webhook URLs start with it."""
        if self.public_url:
            return self.public_url
        host, _, port = self.http_addr.rpartition(":")
        if host in ("0.0.0.0", "::", "[::]", ""):  # noqa: S104 - naming, not binding
            host = "localhost"
        return f"http://{host}:{port}"

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def embedded(self) -> bool:
        """True when every backend is the embedded one."""
        return not (self.database_url or self.nats_url or self.redis_url)

    @property
    def should_migrate_on_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.effective_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; ConfigError with one clear line when invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except SettingsError as exc:
        # A JSON-valued variable that does not parse; pydantic-settings names the field.
        named = re.search(r'field "(\w+)"', str(exc))
        field = named.group(1).upper() if named else "?"
        raise ConfigError(f"{ENV_PREFIX}{field}: not valid JSON") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a check across fields: its message names the variables
            raise ConfigError(message) from None
        field = str(error["loc"][0])
        raw = error.get("input")
        hidden = (
            raw is None
            or "got " in message  # the validator already shows the value
            or any(word in field for word in ("url", "secret", "key"))
        )
        shown = "" if hidden else f" (got {raw!r})"
        raise ConfigError(f"{ENV_PREFIX}{field.upper()}: {message}{shown}") from None
