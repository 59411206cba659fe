"""Channels through `linktor serve` as users run it: the plugin host starts the real WhatsApp
adapter, which validates and normalizes the configuration; secrets are encrypted with a key
generated on first start (0600) that the next start reuses; they never reach the log."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from lktest.cli import create_tenant
from lktest.serve import running_serve

from linktor.v1 import channel_pb2, channel_pb2_grpc, common_pb2

pytestmark = pytest.mark.e2e

TOKEN = "EAAG-e2e-secret-token-0123456789"
PUBLIC = {"LINKTOR_PUBLIC_URL": "https://hooks.example.com/linktor"}


def test_whatsapp_channel_through_serve(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tenant = create_tenant(data)
    md = (("authorization", tenant.bearer),)
    channel = channel_pb2.Channel(display_name="Support", type=common_pb2.CHANNEL_TYPE_WHATSAPP)
    channel.config.update({"phone_number_id": "123456789012345", "waba_id": "987654321"})
    channel.secrets.update(
        {
            "access_token": TOKEN,
            "app_secret": "0123456789abcdef0123456789abcdef",
            "verify_token": "vt-e2e",
        }
    )
    with running_serve(data, PUBLIC) as serve, grpc.insecure_channel(serve.grpc_target) as conn:
        stub = channel_pb2_grpc.ChannelServiceStub(conn)
        bad = channel_pb2.Channel(display_name="Broken", type=common_pb2.CHANNEL_TYPE_WHATSAPP)
        with pytest.raises(grpc.RpcError) as info:
            stub.CreateChannel(
                channel_pb2.CreateChannelRequest(parent=tenant.tenant, channel=bad),
                metadata=md,
                timeout=60,
            )
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "channel.config.phone_number_id" in (info.value.details() or "")

        made = stub.CreateChannel(
            channel_pb2.CreateChannelRequest(parent=tenant.tenant, channel=channel),
            metadata=md,
            timeout=60,
        )
        assert made.state == channel_pb2.CHANNEL_STATE_ACTIVE
        assert made.webhook_url.startswith("https://hooks.example.com/linktor/webhooks/")
        assert list(made.secret_keys) == ["access_token", "app_secret", "verify_token"]
        assert made.config["api_version"]  # filled in by the adapter
        assert made.capabilities.default_rate_limit.per_second == 80
        assert (data / "secrets-key").stat().st_mode & 0o777 == 0o600
        assert TOKEN not in serve.log()

    # The next start reads the same key: the stored secrets still decrypt (the update below
    # revalidates the configuration with them).
    with running_serve(data, PUBLIC) as serve, grpc.insecure_channel(serve.grpc_target) as conn:
        stub = channel_pb2_grpc.ChannelServiceStub(conn)
        change = channel_pb2.Channel(name=made.name)
        change.config.update({"waba_id": "111111111"})
        updated = stub.UpdateChannel(
            channel_pb2.UpdateChannelRequest(
                channel=change, update_mask=field_mask_pb2.FieldMask(paths=["config.waba_id"])
            ),
            metadata=md,
            timeout=60,
        )
        assert updated.config["waba_id"] == "111111111"
        assert updated.webhook_url == made.webhook_url
        assert TOKEN not in serve.log()
