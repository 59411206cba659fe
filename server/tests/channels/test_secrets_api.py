"""Channel secrets: write-only in the API, encrypted at rest (bound to their channel), updated
key by key, never in logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, json_format
from lktest.channels import ChannelServer
from lktest.identity import bearer
from sqlalchemy import select, update

from linktor.server.channels.adapters.tables import channels as channels_table
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.secrets.port import SecretUnreadable
from linktor.v1 import channel_pb2

from .test_channels_api import create, whatsapp

TOKEN = "EAAG-very-secret-access-token-0123456789"


async def raw_row(chs: ChannelServer, name: str) -> Any:
    async with SqlUnitOfWork(chs.engine, privileged=True) as uow:
        query = select(channels_table).where(channels_table.c.id == name.rsplit("/", 1)[1])
        return (await uow.connection.execute(query)).one()


async def test_secrets_are_never_returned_nor_stored_in_clear(
    chs: ChannelServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(
        chs, tenant, whatsapp(secrets={"webhook_secret": TOKEN, "verify_token": "vt-123456"})
    )
    got = await chs.stub.GetChannel(channel_pb2.GetChannelRequest(name=made.name), metadata=md)
    listed = await chs.stub.ListChannels(
        channel_pb2.ListChannelsRequest(parent=tenant.name), metadata=md
    )
    for answer in (made, got, listed):
        text = json_format.MessageToJson(answer)
        assert TOKEN not in text and "vt-123456" not in text
    assert not got.secrets and list(got.secret_keys) == ["verify_token", "webhook_secret"]

    row = await raw_row(chs, made.name)
    assert TOKEN.encode() not in row.secrets_ciphertext
    assert TOKEN not in json.dumps(row.config) and row.secret_keys == [
        "verify_token",
        "webhook_secret",
    ]
    # It opens with the key, bound to this channel's name only.
    opened = json.loads(chs.box.open(row.secrets_ciphertext, made.name.encode()))
    assert opened == {"verify_token": "vt-123456", "webhook_secret": TOKEN}
    with pytest.raises(SecretUnreadable):
        chs.box.open(row.secrets_ciphertext, f"{tenant.name}/channels/another".encode())

    logged = caplog.text + capsys.readouterr().out
    assert TOKEN not in logged


async def test_secrets_are_replaced_key_by_key(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(
        chs, tenant, whatsapp(secrets={"webhook_secret": TOKEN, "verify_token": "vt-1"})
    )

    async def patch(paths: list[str], secrets: dict[str, str]) -> channel_pb2.Channel:
        return await chs.stub.UpdateChannel(
            channel_pb2.UpdateChannelRequest(
                channel=channel_pb2.Channel(name=made.name, secrets=secrets),
                update_mask=field_mask_pb2.FieldMask(paths=paths),
            ),
            metadata=md,
        )

    def stored(row: Any) -> dict[str, str]:
        return dict(json.loads(chs.box.open(row.secrets_ciphertext, made.name.encode())))

    # One key set, the other untouched.
    changed = await patch(["secrets"], {"verify_token": "vt-2"})
    assert list(changed.secret_keys) == ["verify_token", "webhook_secret"]
    assert stored(await raw_row(chs, made.name)) == {
        "verify_token": "vt-2",
        "webhook_secret": TOKEN,
    }
    # An empty value deletes a key; so does a `secrets.KEY` path without a value.
    changed = await patch(["secrets"], {"verify_token": ""})
    assert list(changed.secret_keys) == ["webhook_secret"]
    await patch(["secrets.verify_token"], {"verify_token": "vt-3"})
    changed = await patch(["secrets.verify_token"], {})
    assert list(changed.secret_keys) == ["webhook_secret"]
    # The adapter still validates: a required secret cannot be deleted.
    with pytest.raises(grpc.aio.AioRpcError, match=r"secrets\.webhook_secret"):
        await patch(["secrets.webhook_secret"], {})
    # Without a mask, the secrets given are applied the same way.
    changed = await chs.stub.UpdateChannel(
        channel_pb2.UpdateChannelRequest(
            channel=channel_pb2.Channel(name=made.name, secrets={"webhook_secret": "new"})
        ),
        metadata=md,
    )
    assert stored(await raw_row(chs, made.name)) == {"webhook_secret": "new"}
    assert chs.adapter().seen[-1].secrets["webhook_secret"] == "new"


async def test_unreadable_secrets_can_be_set_again(chs: ChannelServer) -> None:
    tenant = await chs.ids.tenant()
    md = bearer(tenant.api_key)
    made = await create(chs, tenant)
    # Simulate a lost key: the stored ciphertext no longer opens.
    async with SqlUnitOfWork(chs.engine, privileged=True) as uow:
        await uow.connection.execute(
            update(channels_table)
            .where(channels_table.c.id == made.name.rsplit("/", 1)[1])
            .values(secrets_ciphertext=b"\x01" + b"\x00" * 40)
        )
        await uow.commit()
    with pytest.raises(grpc.aio.AioRpcError, match="cannot be decrypted"):
        await chs.stub.TestChannel(channel_pb2.TestChannelRequest(name=made.name), metadata=md)
    # Renaming still works; setting the secrets again repairs the channel.
    await chs.stub.UpdateChannel(
        channel_pb2.UpdateChannelRequest(
            channel=channel_pb2.Channel(name=made.name, display_name="Renamed")
        ),
        metadata=md,
    )
    await chs.stub.UpdateChannel(
        channel_pb2.UpdateChannelRequest(
            channel=channel_pb2.Channel(name=made.name, secrets={"webhook_secret": "again"}),
            update_mask=field_mask_pb2.FieldMask(paths=["secrets"]),
        ),
        metadata=md,
    )
    tested = await chs.stub.TestChannel(channel_pb2.TestChannelRequest(name=made.name), metadata=md)
    assert tested.ok
