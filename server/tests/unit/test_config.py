"""Configuration: defaults, normalization, and one clear line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from linktor.server.config import ConfigError, load_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("LINKTOR_") and not key.startswith("LINKTOR_TEST_"):
            monkeypatch.delenv(key)


def test_defaults_select_the_embedded_backends() -> None:
    settings = load_settings()
    assert settings.grpc_addr == "127.0.0.1:9090"
    assert settings.http_addr == "127.0.0.1:8080"
    assert settings.embedded
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("/.linktor/linktor.db")
    assert settings.should_migrate_on_start


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LINKTOR_GRPC_ADDR", "0.0.0.0:7000")
    monkeypatch.setenv("LINKTOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LINKTOR_DATABASE_URL", "postgres://u:p@db.example:5432/linktor")
    monkeypatch.setenv("LINKTOR_NATS_URL", "nats://127.0.0.1:4222")
    settings = load_settings()
    assert settings.grpc_addr == "0.0.0.0:7000"
    assert settings.data_dir == tmp_path
    # The libpq spelling is accepted and mapped to the async driver.
    assert settings.database_url == "postgresql+asyncpg://u:p@db.example:5432/linktor"
    assert not settings.embedded
    assert not settings.should_migrate_on_start


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "LINKTOR_DATABASE_URL",
            "mysql://x@y/z",
            "LINKTOR_DATABASE_URL: unsupported scheme 'mysql'",
        ),
        ("LINKTOR_DATABASE_URL", "not a url", "LINKTOR_DATABASE_URL: unsupported scheme '(none)'"),
        (
            "LINKTOR_DATABASE_URL",
            "postgresql:///nohost",
            "LINKTOR_DATABASE_URL: a PostgreSQL URL needs a host",
        ),
        ("LINKTOR_GRPC_ADDR", "9090", "LINKTOR_GRPC_ADDR: must be HOST:PORT"),
        ("LINKTOR_HTTP_ADDR", "localhost:http", "LINKTOR_HTTP_ADDR: must be HOST:PORT"),
        ("LINKTOR_NATS_URL", "http://x:1", "LINKTOR_NATS_URL: must look like nats://HOST:PORT"),
        ("LINKTOR_REDIS_URL", "redis:/", "LINKTOR_REDIS_URL: must look like redis://HOST:PORT/DB"),
        ("LINKTOR_LOG_LEVEL", "loud", "LINKTOR_LOG_LEVEL: Input should be"),
        (
            "LINKTOR_SHUTDOWN_GRACE_SECONDS",
            "-1",
            "LINKTOR_SHUTDOWN_GRACE_SECONDS: Input should be greater than 0",
        ),
    ],
)
def test_bad_values_give_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_secrets_in_urls_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKTOR_DATABASE_URL", "mysql://user:hunter2@db/x")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "hunter2" not in str(info.value)
