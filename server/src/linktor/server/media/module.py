"""Wiring of the media context: storage, attachments, AttachmentService and its routes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from linktor.server.api.grpc_server import Registration
from linktor.server.identity.app.authenticate import Authenticator
from linktor.server.infra.keyfiles import read_or_create_key_file
from linktor.server.infra.media.local import LocalMediaStorage
from linktor.server.infra.media.port import MediaStore
from linktor.server.media.adapters.sql import SqlAttachmentRepository, SqlProviderMediaCache
from linktor.server.media.api.http import media_routes
from linktor.server.media.api.servicer import AttachmentServicer
from linktor.server.media.app.attachments import Attachments
from linktor.server.media.domain.attachment import MediaPolicy
from linktor.server.media.domain.signing import DownloadSigner
from linktor.server.shared.clock import Clock
from linktor.v1 import attachment_pb2_grpc

URL_KEY_FILE = "media-url.key"


def url_key(configured: str | None, data_dir: Path) -> bytes:
    """LINKTOR_MEDIA_URL_SECRET, or a key generated once under the data dir (replicas of a
    scaled installation must share a configured one, or links signed by one fail on another)."""
    if configured:
        return configured.encode()
    return read_or_create_key_file(data_dir / URL_KEY_FILE, lambda: secrets.token_urlsafe(48))


@dataclass
class MediaServices:
    store: MediaStore
    attachments: Attachments
    provider_media: SqlProviderMediaCache
    authenticator: Authenticator

    def registrations(self) -> list[Registration]:
        return [
            (
                attachment_pb2_grpc.add_AttachmentServiceServicer_to_server,
                AttachmentServicer(self.attachments),
            )
        ]

    def http_routes(self) -> list[BaseRoute]:
        return list(media_routes(self.attachments, self.authenticator))


def build_media(
    *,
    engine: AsyncEngine,
    clock: Clock,
    authenticator: Authenticator,
    root: Path,
    key: bytes,
    public_url: str,
    url_ttl: timedelta = timedelta(minutes=15),
    max_bytes: int | None = None,
    store: MediaStore | None = None,
) -> MediaServices:
    media_store = store or LocalMediaStorage(root)
    policy = MediaPolicy() if max_bytes is None else MediaPolicy(max_bytes=max_bytes)
    attachments = Attachments(
        SqlAttachmentRepository(engine),
        media_store,
        DownloadSigner(key, url_ttl),
        clock,
        public_url=public_url,
        policy=policy,
    )
    return MediaServices(
        store=media_store,
        attachments=attachments,
        provider_media=SqlProviderMediaCache(engine, clock),
        authenticator=authenticator,
    )
