"""Channel configuration: defaults, normalization and violations a person can act on."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from linktor.adapterkit.testing import channel_config
from linktor.adapters.whatsapp.config import (
    DEFAULT_API_VERSION,
    DEFAULT_GRAPH_BASE_URL,
    InvalidConfigError,
    parse_config,
)
from linktor.v1 import common_pb2

pytestmark = pytest.mark.unit

GOOD_CONFIG = {"phone_number_id": "106540352242922", "waba_id": "102290129340398"}
GOOD_SECRETS = {"access_token": "EAAG-token", "app_secret": "s3cret", "verify_token": "vt"}


def _parse(config: Mapping[str, object], secrets: Mapping[str, str]) -> object:
    return parse_config(channel_config(common_pb2.CHANNEL_TYPE_WHATSAPP, config, secrets))


def _violations(config: Mapping[str, object], secrets: Mapping[str, str]) -> dict[str, str]:
    with pytest.raises(InvalidConfigError) as caught:
        _parse(config, secrets)
    return {v.field: v.description for v in caught.value.violations}


def test_defaults_are_filled_in_and_secrets_stay_out_of_the_normalized_config() -> None:
    config = parse_config(
        channel_config(common_pb2.CHANNEL_TYPE_WHATSAPP, GOOD_CONFIG, GOOD_SECRETS)
    )
    assert config.api_version == DEFAULT_API_VERSION == "v26.0"
    assert config.graph_base_url == DEFAULT_GRAPH_BASE_URL
    normalized = dict(config.normalized().items())
    assert normalized == {
        **GOOD_CONFIG,
        "api_version": "v26.0",
        "graph_base_url": DEFAULT_GRAPH_BASE_URL,
    }
    assert "EAAG-token" not in str(config.normalized())


def test_numeric_ids_given_as_json_numbers_are_accepted() -> None:
    config = parse_config(
        channel_config(
            common_pb2.CHANNEL_TYPE_WHATSAPP,
            {"phone_number_id": 106540352242922, "waba_id": 102290129340398},
            GOOD_SECRETS,
        )
    )
    assert config.phone_number_id == "106540352242922"


def test_every_missing_key_is_reported_with_its_path() -> None:
    violations = _violations({}, {})
    assert set(violations) == {
        "config.phone_number_id",
        "config.waba_id",
        "secrets.access_token",
        "secrets.app_secret",
        "secrets.verify_token",
    }
    assert "Phone number ID" in violations["config.phone_number_id"]


@pytest.mark.parametrize(
    ("config", "field", "hint"),
    [
        ({"phone_number_id": "+1 555 0100"}, "config.phone_number_id", "numeric ID"),
        ({"waba_id": "my-waba"}, "config.waba_id", "numeric ID"),
        ({"api_version": "26"}, "config.api_version", "v26.0"),
        ({"graph_base_url": "http://graph.example.com"}, "config.graph_base_url", "https"),
        ({"graph_base_url": "ftp://graph.example.com"}, "config.graph_base_url", "absolute URL"),
        ({"graph_base_url": "https://graph.example.com?x=1"}, "config.graph_base_url", "query"),
    ],
)
def test_wrong_values_name_the_field_and_the_fix(
    config: dict[str, str], field: str, hint: str
) -> None:
    violations = _violations({**GOOD_CONFIG, **config}, GOOD_SECRETS)
    assert list(violations) == [field]
    assert hint in violations[field]


def test_plain_http_is_allowed_on_loopback_only() -> None:
    config = parse_config(
        channel_config(
            common_pb2.CHANNEL_TYPE_WHATSAPP,
            {**GOOD_CONFIG, "graph_base_url": "http://127.0.0.1:8123/"},
            GOOD_SECRETS,
        )
    )
    assert config.graph_base_url == "http://127.0.0.1:8123"


def test_a_token_pasted_with_bearer_is_refused_without_echoing_it() -> None:
    violations = _violations(GOOD_CONFIG, {**GOOD_SECRETS, "access_token": "Bearer EAAG-secret"})
    assert list(violations) == ["secrets.access_token"]
    assert "EAAG-secret" not in violations["secrets.access_token"]


def test_unknown_keys_are_flagged_as_probable_typos() -> None:
    violations = _violations(
        {**GOOD_CONFIG, "phone_numer_id": "1"}, {**GOOD_SECRETS, "acess_token": "x"}
    )
    assert set(violations) == {"config.phone_numer_id", "secrets.acess_token"}
    assert "phone_number_id" in violations["config.phone_numer_id"]


def test_a_secret_in_config_is_pointed_to_secrets() -> None:
    violations = _violations({**GOOD_CONFIG, "access_token": "EAAG-oops"}, GOOD_SECRETS)
    assert violations == {"config.access_token": "belongs in secrets, not in config"}
