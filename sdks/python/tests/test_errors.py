"""Typed exceptions built from the server's google.rpc details, on live calls."""

from __future__ import annotations

import grpc
import pytest
from sdktest import LiveServer

from linktor.sdk import AsyncLinktor, Linktor, errors

pytestmark = pytest.mark.e2e


def test_not_found_carries_reason_and_method(client: Linktor) -> None:
    with pytest.raises(errors.NotFound) as caught:
        client.contacts.get("01m8aetyqvsn0a1d6r03fe4780")
    error = caught.value
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == "NOT_FOUND"
    assert error.method == "/linktor.v1.ContactService/GetContact"
    assert "01m8aetyqvsn0a1d6r03fe4780" in str(error)


def test_invalid_argument_lists_field_violations(client: Linktor, sms_channel: str) -> None:
    with pytest.raises(errors.InvalidArgument) as caught:
        client.messages.send(
            channel=sms_channel,
            to="+15550300",
            content={"interactive": {"body": "pick", "buttons": {"buttons": [{"id": "a"}]}}},
        )
    fields = [v.field for v in caught.value.field_violations]
    assert any(f.startswith("content.interactive.buttons") for f in fields), fields
    assert caught.value.request_id  # the key the SDK generated, to retry with


def test_request_id_reused_with_another_body(client: Linktor, sms_channel: str) -> None:
    first = client.messages.send(channel=sms_channel, to="+15550301", text="one", request_id="r-1")
    again = client.messages.send(channel=sms_channel, to="+15550301", text="one", request_id="r-1")
    assert again.name == first.name
    with pytest.raises(errors.RequestIdReused) as caught:
        client.messages.send(channel=sms_channel, to="+15550301", text="two", request_id="r-1")
    assert isinstance(caught.value, errors.AlreadyExists)
    assert caught.value.request_id == "r-1"


def test_permission_denied_for_a_narrow_key(client: Linktor, live: LiveServer) -> None:
    narrow = client.api_keys.create(api_key={"display_name": "ro", "scopes": ["messages:read"]})
    with (
        Linktor(api_key=narrow.secret, address=live.address) as reader,
        pytest.raises(errors.PermissionDenied),
    ):
        reader.channels.create(channel={"display_name": "x", "type": "sms"})


async def test_unauthenticated_for_a_bad_key(live: LiveServer) -> None:
    async with AsyncLinktor(api_key="lk_notakey_x", address=live.address) as stranger:
        with pytest.raises(errors.Unauthenticated):
            await stranger.channels.list().to_list()


def test_bad_enum_names_fail_before_the_call(client: Linktor) -> None:
    with pytest.raises(ValueError, match="known: webchat"):
        client.channels.list(type="carrier-pigeon").to_list()
