"""Adapter commands: built-ins, LINKTOR_ADAPTER_COMMANDS, and the host's configuration."""

from __future__ import annotations

import sys

import pytest

from linktor.server.config import ConfigError, load_settings
from linktor.server.plugins.host import PluginHost
from linktor.server.plugins.registry import (
    BUILTIN_ADAPTERS,
    adapter_commands,
    channel_type_from_name,
    channel_type_name,
    parse_adapter_commands,
)
from linktor.v1 import common_pb2

pytestmark = pytest.mark.unit


def test_channel_type_names() -> None:
    assert channel_type_name(common_pb2.CHANNEL_TYPE_WHATSAPP) == "WHATSAPP"
    for spelling in ("whatsapp", "WhatsApp", "CHANNEL_TYPE_WHATSAPP"):
        assert channel_type_from_name(spelling) == common_pb2.CHANNEL_TYPE_WHATSAPP
    with pytest.raises(ValueError, match="unknown channel type 'fax'; known: webchat, whatsapp"):
        channel_type_from_name("fax")


def test_commands_from_json_strings_and_lists() -> None:
    parsed = parse_adapter_commands(
        {
            "sms": "/opt/sms-adapter --region 'eu west'",
            "webchat": ["python", "-m", "linktor.adapters.fake"],
        }
    )
    assert parsed == {
        "SMS": ["/opt/sms-adapter", "--region", "eu west"],
        "WEBCHAT": [sys.executable, "-m", "linktor.adapters.fake"],
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sms": ""}, "empty"),
        ({"sms": 3}, "a string or a list"),
        ({"sms": "'open"}, "cannot split"),
        ({"fax": "x"}, "unknown channel type"),
    ],
)
def test_bad_commands(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_adapter_commands(raw)


def test_configured_commands_add_to_and_replace_the_builtins() -> None:
    commands = adapter_commands({"WHATSAPP": ["/my/whatsapp"], "SMS": ["/my/sms"]})
    assert commands[common_pb2.CHANNEL_TYPE_WHATSAPP] == ["/my/whatsapp"]
    assert commands[common_pb2.CHANNEL_TYPE_SMS] == ["/my/sms"]
    assert BUILTIN_ADAPTERS[common_pb2.CHANNEL_TYPE_WHATSAPP][1:] == (
        "-m",
        "linktor.adapters.whatsapp",
    )


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKTOR_ADAPTER_COMMANDS", '{"webchat": "python -m linktor.adapters.fake"}')
    monkeypatch.setenv("LINKTOR_ADAPTER_ACQUIRE_TIMEOUT_SECONDS", "3")
    settings = load_settings()
    assert settings.adapter_commands == {"WEBCHAT": [sys.executable, "-m", "linktor.adapters.fake"]}
    host = PluginHost.from_settings(settings)
    assert host.acquire_timeout == 3
    assert host.commands[common_pb2.CHANNEL_TYPE_WEBCHAT][1:] == ["-m", "linktor.adapters.fake"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "LINKTOR_ADAPTER_COMMANDS",
            '{"fax": "x"}',
            "LINKTOR_ADAPTER_COMMANDS: unknown channel type 'fax'",
        ),
        ("LINKTOR_ADAPTER_COMMANDS", "not json", "LINKTOR_ADAPTER_COMMANDS"),
        ("LINKTOR_ADAPTER_HEALTH_INTERVAL_SECONDS", "0", "LINKTOR_ADAPTER_HEALTH_INTERVAL_SECONDS"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_inconsistent_tls_and_port_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKTOR_ADAPTER_TLS_CERT_FILE", "/x.crt")
    with pytest.raises(ConfigError, match="go together"):
        PluginHost.from_settings(load_settings())
    monkeypatch.delenv("LINKTOR_ADAPTER_TLS_CERT_FILE")
    monkeypatch.setenv("LINKTOR_ADAPTER_MIN_PORT", "20000")
    monkeypatch.setenv("LINKTOR_ADAPTER_MAX_PORT", "10000")
    with pytest.raises(ConfigError, match="MIN_PORT is greater"):
        PluginHost.from_settings(load_settings())
