"""Configuration from the environment (``LINKTOR_*``) and an optional file.

Validated once at start. A bad value stops the process with ONE line naming the variable and
the problem (see :class:`ConfigError`), never a traceback. Unset URLs select the embedded
backends: SQLite under the data dir, the in-process bus, in-memory rate limits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LINKTOR_"


class ConfigError(Exception):
    """A configuration value is invalid; the message names the variable."""


def _host_port(value: str, *, variable: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be HOST:PORT (for example 127.0.0.1:{variable}), got {value!r}")
    return value


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
    shutdown_grace_seconds: float = Field(8.0, gt=0, le=60)
    db_pool_size: int = Field(10, ge=1, le=200)
    migrate_on_start: bool | None = Field(
        None, description="Apply migrations at start; default: yes on SQLite, no otherwise."
    )

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

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'linktor.db').resolve()}"

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
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raw = error.get("input")
        shown = "" if raw is None or "url" in field else f" (got {raw!r})"
        raise ConfigError(f"{ENV_PREFIX}{field.upper()}: {message}{shown}") from None
