"""The sync client against a live server: every resource group, short ids, the tenant from
the credentials, sends that reach the provider, pagination."""

from __future__ import annotations

import uuid

import pytest
from sdktest import LiveServer, TenantLogin, eventually

from linktor.sdk import Linktor, content, errors
from linktor.v1 import conversation_pb2, message_pb2

pytestmark = pytest.mark.e2e


def test_tenant_comes_from_the_api_key(client: Linktor, tenant: TenantLogin) -> None:
    assert client.tenant() == tenant.tenant
    principal = client.auth.get_principal()
    assert principal.api_key.startswith(tenant.tenant + "/apiKeys/")


def test_send_reaches_the_provider_with_a_request_id(
    client: Linktor, live: LiveServer, sms_channel: str
) -> None:
    sent = client.messages.send(channel=sms_channel, to="+15550100", text="hello from the SDK")
    assert sent.status == message_pb2.MESSAGE_STATUS_ACCEPTED
    assert uuid.UUID(sent.request_id).version == 4
    eventually(lambda: [s for s in live.provider_sends() if s["message_id"] == sent.name])

    def sent_status() -> message_pb2.Message | None:
        got = client.messages.get(sent.name, view="full")
        return got if got.status == message_pb2.MESSAGE_STATUS_SENT else None

    assert eventually(sent_status).attempts
    conversation = sent.name.split("/messages/")[0]
    texts = [m.content.text.body for m in client.messages.list(conversation)]
    assert "hello from the SDK" in texts


def test_conversations_assign_resolve_reopen(client: Linktor, sms_channel: str) -> None:
    sent = client.messages.send(
        channel=sms_channel, to="+15550101", content=content.text("about your order")
    )
    conversation_id = sent.name.split("/")[3]
    owner = client.users.list().to_list(limit=1)[0]
    assigned = client.conversations.assign(conversation_id, assignee=owner.name)
    assert assigned.assignee == owner.name
    resolved = client.conversations.resolve(conversation_id)
    assert resolved.status == conversation_pb2.CONVERSATION_STATUS_RESOLVED
    listed = client.conversations.list(statuses=["resolved"]).to_list()
    assert resolved.name in [c.name for c in listed]
    reopened = client.conversations.reopen(resolved.name)
    assert reopened.status == conversation_pb2.CONVERSATION_STATUS_OPEN


def test_contacts_crud_with_an_inferred_update_mask(client: Linktor) -> None:
    made = client.contacts.create(
        contact={"display_name": "Ana", "phone_number": "+15550102", "tags": ["vip"]}
    )
    contact_id = made.name.rsplit("/", 1)[1]
    # Only the keys given change: display_name; tags stay.
    updated = client.contacts.update(contact={"name": contact_id, "displayName": "Ana Lima"})
    assert (updated.display_name, list(updated.tags)) == ("Ana Lima", ["vip"])
    client.contacts.delete(contact_id)
    with pytest.raises(errors.NotFound):
        client.contacts.get(contact_id)


def test_pagination_walks_every_page(client: Linktor) -> None:
    tag = f"page-{uuid.uuid4().hex[:8]}"
    names = {
        client.contacts.create(contact={"display_name": f"P{i}", "tags": [tag]}).name
        for i in range(7)
    }
    pager = client.contacts.list(tags=[tag], page_size=3)
    assert {c.name for c in pager} == names
    pages = list(pager.pages())
    assert [len(p.contacts) for p in pages] == [3, 3, 1]
    assert pager.next_page_token == ""
    assert len(pager.to_list(limit=4)) == 4


def test_channels_and_api_keys(client: Linktor, sms_channel: str) -> None:
    channel = client.channels.get(sms_channel)
    assert channel.name.endswith(sms_channel)
    assert sms_channel in [c.name.rsplit("/", 1)[1] for c in client.channels.list(type="sms")]
    assert client.channels.test(sms_channel).ok
    key = client.api_keys.create(api_key={"display_name": "reporting", "scopes": ["messages:read"]})
    assert key.secret.startswith("lk_")
    revoked = client.api_keys.revoke(key.name)
    assert revoked.state == 2  # REVOKED
