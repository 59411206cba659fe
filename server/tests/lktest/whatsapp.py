"""The WhatsApp fake Graph API (adapters/whatsapp/tests/support) run on its own event loop in
a thread, so synchronous end-to-end tests can drive `linktor serve` and the fake together."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from google.protobuf import json_format, struct_pb2
from whatsapp_fake_graph import FakeGraphApi

from linktor.v1 import channel_pb2, common_pb2, content_pb2
from lktest.platform import Client

T = TypeVar("T")
VERIFY_TOKEN = "e2e-verify-token"


class ThreadedFake:
    """A FakeGraphApi served from a background loop; ``run`` calls its coroutines."""

    def __init__(self, fake: FakeGraphApi) -> None:
        self.fake = fake
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with self.fake.serve() as base_url:
            self.base_url = base_url
            self._ready.set()
            await self._stop.wait()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the fake Graph API did not start")

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@contextmanager
def threaded_fake(**settings: Any) -> Iterator[ThreadedFake]:
    served = ThreadedFake(FakeGraphApi(**settings))
    served.start()
    try:
        yield served
    finally:
        served.stop()


def whatsapp_channel(client: Client, fake: ThreadedFake, **config: str) -> channel_pb2.Channel:
    """CreateChannel for the fake's number (the adapter validates the configuration)."""
    struct = struct_pb2.Struct()
    struct.update(
        {
            "phone_number_id": fake.fake.phone_number_id,
            "waba_id": fake.fake.waba_id,
            "graph_base_url": fake.base_url,
            **config,
        }
    )
    return client.channels.CreateChannel(
        channel_pb2.CreateChannelRequest(
            parent=client.tenant,
            channel=channel_pb2.Channel(
                display_name="WhatsApp support",
                type=common_pb2.CHANNEL_TYPE_WHATSAPP,
                config=struct,
                secrets={
                    "access_token": fake.fake.access_token,
                    "app_secret": fake.fake.app_secret,
                    "verify_token": VERIFY_TOKEN,
                },
            ),
        ),
        metadata=client.metadata,
        timeout=30,
    )


def content(raw: dict[str, Any]) -> content_pb2.MessageContent:
    """MessageContent from its JSON form."""
    return json_format.ParseDict(raw, content_pb2.MessageContent())
