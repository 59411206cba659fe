"""Wiring of the web chat context: visitor endpoints over messaging, events and channels."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from linktor.server.channels.app.directory import ChannelDirectory
from linktor.server.events.app.stream import EventReader
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.infra.keyfiles import read_or_create_key_file
from linktor.server.media.app.attachments import Attachments
from linktor.server.shared.clock import Clock
from linktor.server.webchat.adapters.directory import (
    DirectoryWebchatChannels,
    SqlEventPositions,
    SqlVisitorContacts,
)
from linktor.server.webchat.api.http import VisitorHttp, http_routes
from linktor.server.webchat.api.socket import VisitorSockets
from linktor.server.webchat.app.fanout import VisitorFanout
from linktor.server.webchat.app.inbound import VisitorInbound
from linktor.server.webchat.app.ports import EphemeralEvents, InboundSink, WebchatChannels
from linktor.server.webchat.app.uploads import VisitorUploads
from linktor.server.webchat.domain.tokens import VisitorTokens

SESSION_KEY_FILE = "webchat-session.key"


def session_key(configured: str | None, data_dir: Path) -> bytes:
    """LINKTOR_WEBCHAT_SESSION_SECRET, or a key generated once under the data dir (embedded
    mode; replicas of a scaled installation must share a configured one)."""
    if configured:
        return configured.encode()
    return read_or_create_key_file(data_dir / SESSION_KEY_FILE, lambda: secrets.token_urlsafe(48))


@dataclass
class WebchatServices:
    http: VisitorHttp
    sockets: VisitorSockets

    def http_routes(self) -> list[BaseRoute]:
        return [*http_routes(self.http), *self.sockets.routes()]


def build_webchat(
    *,
    engine: AsyncEngine,
    clock: Clock,
    rate_limiter: RateLimiter,
    channels: WebchatChannels | ChannelDirectory,
    events: EventReader,
    sink: InboundSink,
    key: bytes,
    attachments: Attachments,
    ephemeral: EphemeralEvents,
) -> WebchatServices:
    lookup = (
        DirectoryWebchatChannels(channels) if isinstance(channels, ChannelDirectory) else channels
    )
    tokens = VisitorTokens(key)
    return WebchatServices(
        http=VisitorHttp(lookup, tokens, VisitorUploads(attachments), rate_limiter),
        sockets=VisitorSockets(
            channels=lookup,
            tokens=tokens,
            inbound=VisitorInbound(sink, attachments, clock, ephemeral),
            fanout=VisitorFanout(events, SqlEventPositions(engine)),
            contacts=SqlVisitorContacts(engine, clock),
            rate_limiter=rate_limiter,
        ),
    )
