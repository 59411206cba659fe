"""The visitor WebSocket: ``/webchat/{key}/ws``.

Before accepting: the channel exists and is enabled and the Origin is allowed; otherwise
the handshake is refused (HTTP 403) without a word about why. The first frame must then be
``{"type": "hello", "token": ..., "after": SEQ}`` within 10 s: a valid session of this
channel (else close 4401), and the visitor must have fewer than SOCKETS_PER_VISITOR sockets
open here (else close 4429). The token never travels in the URL.

Then two tasks share the socket: one pumps the tenant's event stream through the visitor's
view (server frames, each stored event with its ``seq``), the other reads visitor frames
(rate-limited, size-limited by the protocol layer, parsed strictly) and turns them into
inbound events. A reconnect with ``after`` = the last ``seq`` the widget saw resumes
without loss or duplicates; ``after`` = 0 starts from now and the ``ready`` frame gives the
position to resume from.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from linktor.server.infra.cache.port import RateLimiter
from linktor.server.logs import get_logger
from linktor.server.shared.errors import Unavailable
from linktor.server.webchat.api.origins import origin_allowed
from linktor.server.webchat.app.fanout import SocketFeed, VisitorFanout, visitor_route
from linktor.server.webchat.app.inbound import VisitorInbound
from linktor.server.webchat.app.ports import VisitorContacts, WebchatChannel, WebchatChannels
from linktor.server.webchat.app.visitor_view import VisitorView
from linktor.server.webchat.domain.frames import (
    ChooseOption,
    FrameError,
    Ping,
    Receipt,
    SendText,
    Typing,
    encode,
    parse_frame,
    parse_hello,
)
from linktor.server.webchat.domain.tokens import VisitorSession, VisitorTokens
from linktor.server.webchat.limits import FRAMES_BURST, FRAMES_PER_SECOND, SOCKETS_PER_VISITOR
from linktor.v1 import event_pb2

log = get_logger(__name__)

#: Invalid or refused frames tolerated on one socket before it is closed (1008).
MAX_STRIKES = 20
#: A visitor's typing=true is forwarded at most this often (the widget repeats it).
TYPING_INTERVAL_SECONDS = 3.0
HELLO_TIMEOUT_SECONDS = 10.0
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
# Application close codes (4000-4999): the widget starts a new session on 4401.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY = 4429


async def _close_with_error(ws: WebSocket, code: int, error: str, message: str) -> None:
    with contextlib.suppress(Exception):
        await ws.send_text(encode({"type": "error", "code": error, "message": message}))
        await ws.close(code)


@dataclass
class VisitorSockets:
    channels: WebchatChannels
    tokens: VisitorTokens
    inbound: VisitorInbound
    fanout: VisitorFanout
    contacts: VisitorContacts
    rate_limiter: RateLimiter
    attachment_path: str = "/webchat/{key}/attachments/{id}"
    _open: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def open_count(self) -> int:
        return sum(self._open.values())

    async def endpoint(self, ws: WebSocket) -> None:
        try:
            channel = await self.channels.by_key(ws.path_params["key"])
        except Unavailable:
            await ws.close(CLOSE_TRY_AGAIN)
            return
        if (
            channel is None
            or not channel.enabled
            or not origin_allowed(channel, ws.headers.get("origin"))
        ):
            await ws.close(CLOSE_POLICY)  # before accept: the handshake gets 403
            return
        await ws.accept()
        session, after = await self._hello(ws, channel)
        if session is None:
            return
        key = f"{channel.channel_id}:{session.visitor_id}"
        if self._open[key] >= SOCKETS_PER_VISITOR:
            await _close_with_error(ws, CLOSE_TOO_MANY, "TOO_MANY_SOCKETS", "too many open chats")
            return
        self._open[key] += 1
        try:
            await _VisitorConnection(self, ws, channel, session).run(after)
        finally:
            self._open[key] -= 1
            if not self._open[key]:
                del self._open[key]

    async def _hello(
        self, ws: WebSocket, channel: WebchatChannel
    ) -> tuple[VisitorSession | None, int]:
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_SECONDS):
                hello = parse_hello(await ws.receive_text())
        except (TimeoutError, KeyError, RuntimeError, WebSocketDisconnect):
            await _close_with_error(ws, CLOSE_UNAUTHENTICATED, "UNAUTHENTICATED", "hello expected")
            return None, 0
        except FrameError as exc:
            await _close_with_error(ws, CLOSE_UNAUTHENTICATED, exc.code, exc.message)
            return None, 0
        session = self.tokens.verify(hello.token, channel_key=channel.key, now=int(time.time()))
        if session is None:
            await _close_with_error(ws, CLOSE_UNAUTHENTICATED, "UNAUTHENTICATED", "invalid session")
        return session, hello.after

    def routes(self) -> list[BaseRoute]:
        return [WebSocketRoute("/webchat/{key}/ws", self.endpoint)]


class _VisitorConnection:
    def __init__(
        self,
        sockets: VisitorSockets,
        ws: WebSocket,
        channel: WebchatChannel,
        session: VisitorSession,
    ) -> None:
        self.s = sockets
        self.ws = ws
        self.channel = channel
        self.session = session
        self._send_lock = asyncio.Lock()
        self._strikes = 0
        self._typing_sent = 0.0
        self._typing = False
        self.view: VisitorView | None = None

    def _link(self, attachment_name: str) -> str:
        attachment_id = attachment_name.rsplit("/", 1)[-1]
        return self.s.attachment_path.format(key=self.channel.key, id=attachment_id)

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(encode(frame))

    async def run(self, after: int) -> None:
        tenant = self.channel.tenant_id
        contact = await self.s.contacts.contact_of(tenant, self.session.visitor_id)
        self.view = VisitorView(self.channel.name, self.session.visitor_id, contact, self._link)
        keys = {visitor_route(self.session.visitor_id)}
        if contact:
            keys.add(("contact", contact))
        feed = SocketFeed(keys)
        joined = await self.s.fanout.attach(tenant, feed)
        try:
            cursor = after or joined
            await self.send({"type": "ready", "visitor": self.session.visitor_id, "seq": cursor})
            pump = asyncio.create_task(self._pump(feed, cursor, joined), name="webchat-pump")
            try:
                await self._receive()
            except WebSocketDisconnect:
                pass
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
                if self.ws.application_state is WebSocketState.CONNECTED:
                    with contextlib.suppress(Exception):
                        await self.ws.close()
        finally:
            self.s.fanout.detach(tenant, feed)

    async def _show(self, feed: SocketFeed, event: event_pb2.Event) -> None:
        assert self.view is not None
        for frame in self.view.frames(event):
            await self.send(frame)
        # What the view learned (its contact, its conversations) routes more events here.
        tenant = self.channel.tenant_id
        if self.view.contact:
            self.s.fanout.route(tenant, feed, ("contact", self.view.contact))
        for conversation in self.view.conversations:
            self.s.fanout.route(tenant, feed, ("conversation", conversation))

    async def _pump(self, feed: SocketFeed, cursor: int, joined: int) -> None:
        try:
            if cursor < joined:
                # Away since `cursor`: what the tenant's pump passed before we joined.
                async for event in self.s.fanout.catch_up(self.channel.tenant_id, cursor, joined):
                    await self._show(feed, event)
                cursor = joined
            while True:
                event = await feed.queue.get()
                if feed.overflowing:
                    log.info("web chat socket too slow; closed", channel=self.channel.channel_id)
                    await self.ws.close(CLOSE_TRY_AGAIN)
                    return
                if not event.ephemeral:
                    if event.sequence <= cursor:
                        continue
                    cursor = event.sequence
                await self._show(feed, event)
        except WebSocketDisconnect:
            return
        except Exception as exc:
            log.warning(
                "web chat stream ended", channel=self.channel.channel_id, error=type(exc).__name__
            )
            with contextlib.suppress(Exception):
                await self.ws.close(CLOSE_TRY_AGAIN)

    async def _refuse(self, code: str, message: str, client_id: str = "", **extra: Any) -> None:
        self._strikes += 1
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message, **extra}
        if client_id:
            frame["id"] = client_id
        await self.send(frame)
        if self._strikes >= MAX_STRIKES:
            log.info("web chat socket closed for abuse", channel=self.channel.channel_id)
            await self.ws.close(CLOSE_POLICY)
            raise WebSocketDisconnect(CLOSE_POLICY)

    async def _allowed(self, bucket: str, rate: float, burst: int) -> float:
        """0 when allowed, else seconds to wait."""
        decision = await self.s.rate_limiter.acquire(
            f"webchat:{bucket}:{self.channel.channel_id}:{self.session.visitor_id}",
            rate=rate,
            burst=burst,
        )
        return 0.0 if decision.allowed else max(decision.retry_after, 0.001)

    async def _receive(self) -> None:
        settings = self.channel.settings
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self._refuse("INVALID_JSON", "frames are JSON text")
                continue
            wait = await self._allowed("frames", FRAMES_PER_SECOND, FRAMES_BURST)
            if wait:
                await self._refuse("RATE_LIMITED", "slow down", retry_after=round(wait, 3))
                continue
            try:
                frame = parse_frame(text, max_message_length=settings.max_message_length)
                await self._handle(frame)
            except FrameError as exc:
                await self._refuse(exc.code, exc.message, exc.client_id)
            except (WebSocketDisconnect, asyncio.CancelledError):
                raise
            except Exception as exc:
                # Storage unavailable: nothing was accepted; the widget sends it again.
                log.warning(
                    "web chat frame not stored",
                    channel=self.channel.channel_id,
                    error=type(exc).__name__,
                )
                await self.send(
                    {
                        "type": "error",
                        "code": "UNAVAILABLE",
                        "message": "try again",
                        "retryable": True,
                    }
                )

    async def _handle(self, frame: Any) -> None:
        assert self.view is not None
        channel, visitor = self.channel, self.session.visitor_id
        if isinstance(frame, SendText | ChooseOption):
            per_minute = channel.settings.messages_per_minute
            wait = await self._allowed("messages", per_minute / 60, max(3, per_minute // 6))
            if wait:
                raise FrameError(
                    "RATE_LIMITED", f"at most {per_minute} messages a minute", frame.client_id
                )
            await self.s.inbound.send(channel, visitor, self.session.display_name, frame)
            await self.send({"type": "accepted", "id": frame.client_id})
        elif isinstance(frame, Typing):
            contact, conversation = self.view.contact, self.view.conversation
            if not (contact and conversation):
                return  # before the first message there is no conversation to show it in
            now = time.monotonic()
            if frame.typing == self._typing and now - self._typing_sent < TYPING_INTERVAL_SECONDS:
                return
            self._typing, self._typing_sent = frame.typing, now
            await self.s.inbound.typing(channel, contact, conversation, frame.typing)
        elif isinstance(frame, Receipt):
            ids = self.view.acknowledgeable(frame.message, read=frame.read)
            await self.s.inbound.receipts(channel, visitor, ids, read=frame.read)
        elif isinstance(frame, Ping):
            await self.send({"type": "pong"})
