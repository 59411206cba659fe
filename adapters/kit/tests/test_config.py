from __future__ import annotations

import pytest
from google.protobuf import json_format

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import ConfigCheck, check_declared_fields, url_problem
from linktor.adapterkit.testing import channel_config
from linktor.v1 import common_pb2

pytestmark = pytest.mark.unit

SMS = common_pb2.CHANNEL_TYPE_SMS


def paths(check: ConfigCheck) -> dict[str, str]:
    return {v.field: v.description for v in check.violations}


def test_reads_normalizes_and_fills_defaults() -> None:
    check = ConfigCheck(channel_config(SMS, {"from": "  +15550001 ", "rate": 5}, {"api_key": "k"}))
    assert check.string("from", required=True, pattern=r"\+\d+") == "+15550001"
    assert check.number("rate", minimum=1, maximum=10, integer=True) == 5
    assert check.string("region", default="us") == "us"
    assert check.boolean("verbose", default=False) is False
    assert check.secret("api_key", required=True) == "k"
    result = check.response()
    assert not result.violations
    assert json_format.MessageToDict(result.normalized_config) == {
        "from": "+15550001",
        "rate": 5,
        "region": "us",
        "verbose": False,
    }


def test_collects_violations_with_config_and_secrets_paths() -> None:
    check = ConfigCheck(
        channel_config(SMS, {"from": 12, "rate": 0.5, "mode": "x", "on": "yes", "name": ""}, {})
    )
    check.string("from", required=True)
    check.number("rate", integer=True)
    check.string("mode", choices=["a", "b"])
    check.boolean("on")
    check.string("name", required=True)
    check.secret("api_key", required=True)
    check.number("missing", required=True)
    assert paths(check) == {
        "config.from": "must be a string, got a number",
        "config.rate": "must be a whole number",
        "config.mode": "must be one of a, b",
        "config.on": "must be true or false, got a string",
        "config.name": "is required",
        "secrets.api_key": "is required",
        "config.missing": "is required",
    }
    assert not check.response().HasField("normalized_config")


def test_numbers_bounds_and_strings_length() -> None:
    check = ConfigCheck(channel_config(SMS, {"a": -1, "b": 11, "c": True, "d": "x" * 5}))
    check.number("a", minimum=0)
    check.number("b", maximum=10)
    check.number("c")
    check.string("d", max_length=4)
    assert paths(check) == {
        "config.a": "must be at least 0",
        "config.b": "must be at most 10",
        "config.c": "must be a number, got a boolean",
        "config.d": "must be at most 4 characters",
    }


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://api.example.com/v1", None),
        ("http://api.example.com", "must be a URL starting with https://"),
        ("https://", "must include a host name"),
        ("https://user:pw@example.com", "must not contain credentials; put them in secrets"),
        ("https://127.0.0.1/x", "must not point to a private, loopback or link-local address"),
        ("https://10.1.2.3/x", "must not point to a private, loopback or link-local address"),
        ("https://[::1]/x", "must not point to a private, loopback or link-local address"),
        (
            "https://169.254.169.254/latest",
            "must not point to a private, loopback or link-local address",
        ),
    ],
)
def test_url_problems(url: str, problem: str | None) -> None:
    assert url_problem(url) == problem


def test_url_field_can_allow_private_hosts_for_local_fakes() -> None:
    check = ConfigCheck(channel_config(SMS, {"base_url": "http://127.0.0.1:8080"}))
    assert (
        check.url("base_url", schemes=("http", "https"), allow_private=True)
        == "http://127.0.0.1:8080"
    )
    assert check.ok


def test_secrets_are_never_echoed_or_normalized() -> None:
    check = ConfigCheck(channel_config(SMS, {}, {"token": "abc"}))
    check.secret("token", min_length=8)
    assert paths(check) == {"secrets.token": "must be at least 8 characters"}
    assert "abc" not in str(check.violations)
    assert check.normalized == {}


def test_declared_fields_check() -> None:
    fields = [
        adapter_pb2.ConfigField(key="phone_number_id", required=True),
        adapter_pb2.ConfigField(key="api_version", default_value="v21.0"),
        adapter_pb2.ConfigField(key="access_token", secret=True, required=True),
    ]
    empty = check_declared_fields(channel_config(SMS), fields)
    assert paths(empty) == {
        "config.phone_number_id": "is required",
        "secrets.access_token": "is required",
    }
    full = check_declared_fields(
        channel_config(SMS, {"phone_number_id": " 123 ", "typo": 1}, {"access_token": "t"}), fields
    )
    assert paths(full) == {"config.typo": "is not a known setting of this channel type"}
    full.violations.clear()
    assert json_format.MessageToDict(full.response().normalized_config) == {
        "phone_number_id": "123",
        "api_version": "v21.0",
    }
