"""Web chat from the visitor's side, for tests and the benchmark: a web chat channel made
through the API, visitor sessions over HTTP and the visitor socket (the `websockets`
client), with the frames of docs/channels/webchat.md."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import websockets
from google.protobuf import struct_pb2

from linktor.v1 import channel_pb2, common_pb2
from lktest.platform import Client


def create_webchat_channel(
    client: Client, origins: tuple[str, ...] = (), **config: object
) -> channel_pb2.Channel:
    struct = struct_pb2.Struct()
    struct.update(config)  # type: ignore[arg-type]
    return client.channels.CreateChannel(
        channel_pb2.CreateChannelRequest(
            parent=client.tenant,
            channel=channel_pb2.Channel(
                display_name="Web chat",
                type=common_pb2.CHANNEL_TYPE_WEBCHAT,
                config=struct,
                allowed_origins=list(origins),
            ),
        ),
        metadata=client.metadata,
        timeout=60,
    )


def channel_key(channel: channel_pb2.Channel) -> str:
    """The widget's data-channel: the last segment of the channel's webhook URL."""
    return channel.webhook_url.rstrip("/").rsplit("/", 1)[-1]


def http_json(
    url: str,
    body: dict[str, Any] | bytes | None = None,
    *,
    method: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """(status, lower-cased headers, JSON body or raw bytes) of one request."""
    data = (
        body
        if isinstance(body, bytes)
        else (json.dumps(body).encode() if body is not None else None)
    )
    request = urllib.request.Request(
        url,
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            status, raw, got = answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), dict(exc.headers)
    lowered = {k.lower(): v for k, v in got.items()}
    try:
        return status, lowered, json.loads(raw) if raw else None
    except ValueError:
        return status, lowered, raw


@dataclass
class Visitor:
    """One visitor: a session token and, when connected, a socket with its frames."""

    base: str  # http://127.0.0.1:PORT
    key: str
    token: str
    visitor_id: str
    origin: str = "http://localhost"
    ws: Any = None
    frames: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0

    @classmethod
    def start(
        cls, base: str, key: str, origin: str = "http://localhost", name: str = ""
    ) -> Visitor:
        status, _, body = http_json(
            f"{base}/webchat/{key}/sessions", {"name": name}, headers={"origin": origin}
        )
        assert status == 201, (status, body)
        return cls(base, key, body["token"], body["visitor"], origin)

    def socket_url(self) -> str:
        return f"{self.base.replace('http://', 'ws://', 1)}/webchat/{self.key}/ws"

    async def connect(self, after: int | None = None, token: str | None = None) -> dict[str, Any]:
        """Open the socket and say hello (``after``: the last seq seen by default)."""
        self.ws = await websockets.connect(self.socket_url(), origin=self.origin, open_timeout=20)  # type: ignore[arg-type]
        after = self.last_seq if after is None else after
        await self.send({"type": "hello", "token": token or self.token, "after": after})
        ready = await self.next("ready")
        self.last_seq = max(self.last_seq, int(ready["seq"]))
        return ready

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def say(self, client_id: str, text: str) -> None:
        await self.send({"type": "message", "id": client_id, "text": text})

    async def next(self, *types: str, timeout: float = 20.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The next frame of one of ``types`` (others are kept in ``frames``)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.ws.recv())
                self.frames.append(frame)
                if isinstance(frame.get("seq"), int) and frame["type"] != "ready":
                    self.last_seq = max(self.last_seq, frame["seq"])
                if not types or frame["type"] in types:
                    return dict(frame)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
