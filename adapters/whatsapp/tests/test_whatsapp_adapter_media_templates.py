"""UploadMedia / DownloadMedia round trip, ListTemplates paging and CheckChannel through
the real handshake against the fake Graph API."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import grpc
import pytest
from wa_support import RPC_TIMEOUT, channel_for, content, send
from whatsapp_fake_graph import FakeGraphApi, template

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit.launcher import PluginProcess
from linktor.v1 import content_pb2

pytestmark = pytest.mark.integration

CHUNK = 1024 * 1024


async def upload_stream(
    channel: adapter_pb2.ChannelConfig,
    data: bytes,
    media_type: content_pb2.MediaType.ValueType,
    mime: str,
    filename: str = "",
) -> AsyncIterator[adapter_pb2.UploadMediaRequest]:
    metadata = adapter_pb2.MediaMetadata(
        type=media_type, mime_type=mime, filename=filename, size_bytes=len(data)
    )
    yield adapter_pb2.UploadMediaRequest(
        start=adapter_pb2.UploadMediaStart(channel=channel, metadata=metadata)
    )
    for offset in range(0, len(data), CHUNK):
        yield adapter_pb2.UploadMediaRequest(chunk=data[offset : offset + CHUNK])


async def upload(
    adapter: PluginProcess,
    fake: FakeGraphApi,
    data: bytes,
    media_type: content_pb2.MediaType.ValueType,
    mime: str,
    filename: str = "",
) -> adapter_pb2.UploadMediaResponse:
    response: adapter_pb2.UploadMediaResponse = await adapter.stub.UploadMedia(
        upload_stream(channel_for(fake), data, media_type, mime, filename), timeout=RPC_TIMEOUT
    )
    return response


async def download(
    adapter: PluginProcess, fake: FakeGraphApi, media_id: str
) -> tuple[adapter_pb2.MediaMetadata, bytes]:
    metadata = adapter_pb2.MediaMetadata()
    data = bytearray()
    call = adapter.stub.DownloadMedia(
        adapter_pb2.DownloadMediaRequest(channel=channel_for(fake), provider_media_id=media_id),
        timeout=RPC_TIMEOUT,
    )
    async for part in call:
        if part.HasField("metadata"):
            metadata = part.metadata
        else:
            data += part.chunk
    return metadata, bytes(data)


async def test_upload_then_send_then_download_round_trip(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    document = os.urandom(3 * CHUNK + 12345)
    uploaded = await upload(
        adapter, fake, document, content_pb2.MEDIA_TYPE_DOCUMENT, "application/pdf", "report.pdf"
    )
    assert not uploaded.HasField("error"), uploaded.error
    assert uploaded.provider_media_id in fake.media
    assert uploaded.expire_time.seconds > 0
    request = fake.requests[-1]
    assert request.path == f"/v26.0/{fake.phone_number_id}/media"
    assert request.form["messaging_product"] == "whatsapp"
    assert (
        request.file is not None
        and request.file[0] == "report.pdf"
        and request.file[1] == "application/pdf"
    )
    assert request.file[2] == document

    sent = await send(
        adapter,
        fake,
        content(
            media={
                "type": "MEDIA_TYPE_DOCUMENT",
                "providerMediaId": uploaded.provider_media_id,
                "filename": "report.pdf",
            }
        ),
    )
    assert sent.provider_message_id

    metadata, data = await download(adapter, fake, uploaded.provider_media_id)
    assert data == document
    assert (metadata.mime_type, metadata.size_bytes, metadata.type) == (
        "application/pdf",
        len(document),
        content_pb2.MEDIA_TYPE_DOCUMENT,
    )
    media_get, file_get = fake.requests[-2:]
    assert media_get.path == f"/v26.0/{uploaded.provider_media_id}"
    assert file_get.path == f"/media-download/{uploaded.provider_media_id}"
    assert file_get.headers["authorization"] == f"Bearer {fake.access_token}"


async def test_download_of_inbound_media_checks_the_sha256(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    voice = b"OggS" + os.urandom(5000)
    media_id = fake.add_media(voice, "audio/ogg")
    metadata, data = await download(adapter, fake, media_id)
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(voice).hexdigest()
    assert metadata.type == content_pb2.MEDIA_TYPE_AUDIO
    fake.media[media_id].announced_sha256 = "0" * 64
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await download(adapter, fake, media_id)
    assert caught.value.code() == grpc.StatusCode.DATA_LOSS


async def test_download_of_unknown_media_is_not_found_not_retryable(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await download(adapter, fake, "111111111111111")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "100" in (caught.value.details() or "")


@pytest.mark.parametrize(
    ("size", "media_type", "mime", "field"),
    [
        (5 * CHUNK + 1, content_pb2.MEDIA_TYPE_IMAGE, "image/jpeg", "metadata.size_bytes"),
        (1000, content_pb2.MEDIA_TYPE_IMAGE, "image/gif", "metadata.mime_type"),
        (600 * 1024, content_pb2.MEDIA_TYPE_STICKER, "image/webp", "metadata.size_bytes"),
    ],
)
async def test_uploads_over_whatsapps_limits_are_refused_before_meta(
    adapter: PluginProcess,
    fake: FakeGraphApi,
    size: int,
    media_type: content_pb2.MediaType.ValueType,
    mime: str,
    field: str,
) -> None:
    response = await upload(adapter, fake, b"x" * size, media_type, mime)
    assert response.error.error.code == "INVALID_CONTENT"
    assert field in response.error.error.message
    assert fake.requests == []


async def test_templates_are_listed_across_pages(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    fake.templates.extend(template(f"template_{i:03d}", body="Hi {{1}}") for i in range(230))
    fake.templates.append(
        template("named", body="Hi {{name}}", parameter_format="NAMED", status="PENDING")
    )
    answer = await adapter.stub.ListTemplates(
        adapter_pb2.ListTemplatesRequest(channel=channel_for(fake)), timeout=RPC_TIMEOUT
    )
    assert [t.template_name for t in answer.templates] == [t["name"] for t in fake.templates]
    pages = [r for r in fake.requests if r.path.endswith("/message_templates")]
    assert [r.query.get("after", "") != "" for r in pages] == [False, True, True]
    assert all(r.path == f"/v26.0/{fake.waba_id}/message_templates" for r in pages)
    last = answer.templates[-1]
    assert (
        last.status,
        last.components[0].parameter_count,
        list(last.components[0].parameter_names),
    ) == ("PENDING", 1, ["name"])


async def test_template_listing_failures_are_grpc_errors_with_a_useful_code(
    adapter: PluginProcess, fake: FakeGraphApi
) -> None:
    fake.fail_next(80007, endpoint="message_templates")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await adapter.stub.ListTemplates(
            adapter_pb2.ListTemplatesRequest(channel=channel_for(fake)), timeout=RPC_TIMEOUT
        )
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await adapter.stub.ListTemplates(
            adapter_pb2.ListTemplatesRequest(channel=channel_for(fake, access_token="bad")),
            timeout=RPC_TIMEOUT,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_check_channel(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    ok = await adapter.stub.CheckChannel(
        adapter_pb2.CheckChannelRequest(channel=channel_for(fake)), timeout=RPC_TIMEOUT
    )
    assert ok.ok
    assert ok.message == "Linktor Test (15550783881), quality rating GREEN"
    assert ok.latency.ToNanoseconds() > 0
    assert fake.requests[-1].query["fields"] == "display_phone_number,verified_name,quality_rating"
    bad = await adapter.stub.CheckChannel(
        adapter_pb2.CheckChannelRequest(channel=channel_for(fake, access_token="revoked")),
        timeout=RPC_TIMEOUT,
    )
    assert not bad.ok
    assert "UNAUTHENTICATED" in bad.message and "190" in bad.message


async def test_validate_config_and_capabilities(adapter: PluginProcess, fake: FakeGraphApi) -> None:
    valid = await adapter.stub.ValidateConfig(
        adapter_pb2.ValidateConfigRequest(channel=channel_for(fake)), timeout=RPC_TIMEOUT
    )
    assert not valid.violations
    assert valid.normalized_config["api_version"] == "v26.0"
    invalid = await adapter.stub.ValidateConfig(
        adapter_pb2.ValidateConfigRequest(
            channel=channel_for(
                fake, phone_number_id="+15550783881", graph_base_url="http://example.com"
            )
        ),
        timeout=RPC_TIMEOUT,
    )
    assert sorted(v.field for v in invalid.violations) == [
        "config.graph_base_url",
        "config.phone_number_id",
    ]
    capabilities = await adapter.capabilities()
    caps = capabilities.capabilities
    assert capabilities.adapter_name == "linktor-whatsapp"
    assert (
        caps.max_text_length,
        caps.max_caption_length,
        caps.max_buttons,
        caps.max_list_rows,
    ) == (4096, 1024, 3, 10)
    assert caps.reply_window.seconds == 24 * 3600
    assert (caps.default_rate_limit.per_second, caps.max_rate_limit.per_second) == (80, 1000)
    assert caps.supports_templates and caps.supports_typing and caps.supports_read_receipts
    assert caps.reports_delivery and caps.reports_read and caps.supports_reply_to
    assert {f.key for f in capabilities.config_fields if f.secret} == {
        "access_token",
        "app_secret",
        "verify_token",
    }
