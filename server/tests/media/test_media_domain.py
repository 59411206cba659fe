"""The media context's rules without a database: types and limits, sniffing, file names,
signed download URLs, and the local disk store (streaming, limits, no path escape)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linktor.server.infra.media.local import LocalMediaStorage
from linktor.server.infra.media.port import MediaMissing, MediaTooLarge
from linktor.server.media.domain.attachment import (
    MIB,
    MediaPolicy,
    clean_filename,
    family_of,
    storage_key,
)
from linktor.server.media.domain.signing import DownloadSigner
from linktor.server.media.domain.sniff import content_matches
from linktor.server.shared.errors import InvalidArgument

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_media_types_and_family_limits() -> None:
    policy = MediaPolicy(max_bytes=50 * MIB)
    assert policy.check_type("Image/PNG; charset=binary") == ("image/png", 16 * MIB)
    assert policy.check_type("video/mp4")[1] == 50 * MIB  # the installation cap wins
    assert family_of("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    for refused in ("text/html", "image/svg+xml", "application/javascript"):
        with pytest.raises(InvalidArgument) as info:
            policy.check_type(refused)
        assert "cannot be stored" in info.value.message
    with pytest.raises(InvalidArgument):
        policy.check_type("not a type")


def test_declared_type_must_match_the_leading_bytes() -> None:
    assert content_matches("image/png", PNG)
    assert not content_matches("image/png", b"<html><script>")
    assert content_matches("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    assert content_matches("video/mp4", b"\x00\x00\x00\x18ftypmp42")
    assert not content_matches("video/mp4", b"\x00\x00\x00\x18moov")
    assert content_matches("text/plain", b"anything")  # no signature: trusted


def test_file_names_lose_directories_and_control_characters() -> None:
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\ana\\report\x00.pdf") == "report.pdf"
    assert clean_filename(".hidden") == "hidden"
    assert len(clean_filename("a" * 400)) == 255


def test_signed_urls_verify_until_they_expire_and_not_when_altered() -> None:
    signer = DownloadSigner(KEY, timedelta(minutes=15))
    url = signer.sign("t1", "a1", NOW)
    assert url.path_and_query.startswith("/media/t1/a1?expires=")
    query = dict(p.split("=", 1) for p in url.path_and_query.split("?")[1].split("&"))
    expires, signature = query["expires"], query["signature"]
    assert signer.verify("t1", "a1", expires, signature, NOW)
    assert signer.verify("t1", "a1", expires, signature, NOW + timedelta(minutes=14))
    assert not signer.verify("t1", "a1", expires, signature, NOW + timedelta(minutes=16))
    assert not signer.verify("t2", "a1", expires, signature, NOW)  # another tenant
    assert not signer.verify("t1", "a2", expires, signature, NOW)
    assert not signer.verify("t1", "a1", str(int(expires) + 3600), signature, NOW)
    assert not signer.verify("t1", "a1", expires, signature[:-1] + "A", NOW)
    assert not signer.verify("t1", "a1", "-1", signature, NOW)
    other = DownloadSigner(b"o" * 32, timedelta(minutes=15))
    assert not other.verify("t1", "a1", expires, signature, NOW)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        DownloadSigner(b"short", timedelta(minutes=1))


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_local_store_streams_in_and_out_with_size_and_digest(tmp_path: Path) -> None:
    store = LocalMediaStorage(tmp_path / "media")
    key = storage_key("tenant-1", "att-1")
    blob = await store.put_stream(key, _chunks(b"a" * 10, b"b" * 5), max_bytes=100)
    assert blob.size_bytes == 15
    assert blob.sha256 == hashlib.sha256(b"a" * 10 + b"b" * 5).hexdigest()
    assert (tmp_path / "media" / "tenant-1" / "att-1").exists()
    assert b"".join([c async for c in store.stream(key, chunk_bytes=4)]) == b"a" * 10 + b"b" * 5
    assert await store.get(key) == b"a" * 10 + b"b" * 5
    put = await store.put(storage_key("tenant-1", "att-2"), PNG)
    assert put.size_bytes == len(PNG)
    await store.delete(key)
    assert await store.get(key) is None
    with pytest.raises(MediaMissing):
        await anext(store.stream(key))


async def test_local_store_refuses_oversize_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalMediaStorage(tmp_path)
    with pytest.raises(MediaTooLarge):
        await store.put_stream("t/big", _chunks(b"x" * 60, b"x" * 60), max_bytes=100)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # noqa: ASYNC240 - a test


@pytest.mark.parametrize(
    "key",
    ["../escape", "/etc/passwd", "t/../../x", "T/Upper", "t/.hidden", "t\\x", "", "a/b/c/d/e"],
)
async def test_local_store_refuses_keys_that_could_escape(tmp_path: Path, key: str) -> None:
    store = LocalMediaStorage(tmp_path / "media")
    with pytest.raises(ValueError, match="invalid media key"):
        await store.put(key, b"x")


async def test_local_store_refuses_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "t1").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError, match="leaves the media root"):
        await LocalMediaStorage(root).put("t1/a", b"x")
