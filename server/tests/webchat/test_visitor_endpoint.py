"""The visitor endpoint on both backends (the Platform in this process, the real webchat
adapter through the plugin host): sessions, origins, tokens, hostile frames, rate limits,
receipts, uploads, and resume without loss or duplicates, never showing another visitor's or
tenant's events."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
import websockets
from lktest.seed import seed_tenant
from lktest.webchat import Visitor
from lktest.webchat_site import WebchatSite

from linktor.server.events.app.stream import StreamFilter
from linktor.server.webchat.domain.tokens import VisitorSession, VisitorTokens, channel_key_hash
from linktor.server.webchat.module import SESSION_KEY_FILE
from linktor.v1 import content_pb2

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def session(site: WebchatSite, key: str | None = None, **kw: Any) -> httpx.Response:
    headers = {"origin": kw.pop("origin", "http://localhost")}
    async with httpx.AsyncClient(base_url=site.base, timeout=30) as http:
        return await http.post(f"/webchat/{key or site.key}/sessions", headers=headers, **kw)


async def visitor(site: WebchatSite, **kw: Any) -> Visitor:
    return await asyncio.to_thread(site.visitor, **kw)


async def first_message(site: WebchatSite, v: Visitor, text: str = "hello") -> str:
    """The visitor says ``text``; returns the conversation's name."""
    await v.say("first", text)
    frame = await v.next("message")
    return str(frame["message"].split("/messages/")[0])


async def closed_with(v: Visitor) -> int:
    try:
        async with asyncio.timeout(20):
            while True:
                await v.ws.recv()
    except websockets.ConnectionClosed as closed:
        return int(closed.rcvd.code) if closed.rcvd else -1
    return 0


async def test_sessions_are_created_renewed_and_bound_to_their_channel(site: WebchatSite) -> None:
    created = await session(site, json={"name": "Ana\u202e\x00 <b>"})
    assert created.status_code == 201
    body = created.json()
    assert body["visitor"].startswith("wv_") and body["settings"]["title"] == "Chat with us"
    assert "tenant" not in created.text and site.tenant_id not in created.text
    renewed = await session(site, json={"token": body["token"]})
    assert renewed.status_code == 200 and renewed.json()["visitor"] == body["visitor"]
    # A token of another channel starts a new visitor there.
    _, other_key = await site.add_channel()
    elsewhere = await session(site, other_key, json={"token": body["token"]})
    assert elsewhere.status_code == 201 and elsewhere.json()["visitor"] != body["visitor"]
    assert (await session(site, "nope", json={})).status_code == 404
    assert (await session(site, content=b"[1]")).status_code == 400
    assert (await session(site, content=b"{")).status_code == 400
    assert (await session(site, content=b"x" * 5000)).status_code == 413
    # The name is cleaned (bidi override and NUL gone) but stays text.
    v = Visitor(site.base, site.key, body["token"], body["visitor"])
    await v.connect()
    await first_message(site, v)
    stored = next(f for f in v.frames if f.get("from") == "visitor")
    message = await site.message(stored["message"])
    assert message is not None and message.sender.display_name == "Ana <b>"
    await v.close()


async def test_new_sessions_are_rate_limited_per_address(site: WebchatSite) -> None:
    answers = [await session(site, json={}) for _ in range(40)]
    assert [a.status_code for a in answers[:30]] == [201] * 30
    # The bucket refills at 30 a minute while the requests run: some more may pass.
    refused = [a for a in answers[30:] if a.status_code == 429]
    assert refused and int(refused[0].headers["retry-after"]) >= 1


async def test_allowed_origins_gate_http_and_sockets(site: WebchatSite) -> None:
    _, key = await site.add_channel(origins=("https://shop.example",))
    ok = await session(site, key, json={}, origin="https://shop.example")
    assert ok.status_code == 201
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    refused = await session(site, key, json={}, origin="https://evil.example")
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    async with httpx.AsyncClient(base_url=site.base) as http:
        no_origin = await http.post(f"/webchat/{key}/sessions", json={})
        preflight = await http.options(
            f"/webchat/{key}/sessions",
            headers={"origin": "https://shop.example", "access-control-request-method": "POST"},
        )
        widget = await http.get("/widget.js")
    assert no_origin.status_code == 403
    assert (
        preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    )
    assert widget.status_code == 200 and widget.headers["content-type"].startswith(
        "application/javascript"
    )
    good = Visitor(
        site.base, key, ok.json()["token"], ok.json()["visitor"], origin="https://shop.example"
    )
    await good.connect()
    await good.close()
    bad = Visitor(
        site.base, key, ok.json()["token"], ok.json()["visitor"], origin="https://evil.example"
    )
    with pytest.raises(websockets.InvalidStatus) as refused_socket:
        await bad.connect()
    assert refused_socket.value.response.status_code == 403


async def test_only_valid_sessions_of_the_channel_get_a_socket(site: WebchatSite) -> None:
    v = await visitor(site)
    key = (site.platform.settings.data_dir / SESSION_KEY_FILE).read_bytes().strip()
    now = int(time.time())
    forged = VisitorTokens(b"k" * 32).issue(
        VisitorSession(v.visitor_id, "", channel_key_hash(site.key), now + 60)
    )
    expired = VisitorTokens(key).issue(
        VisitorSession(v.visitor_id, "", channel_key_hash(site.key), now - 1)
    )
    other_channel = VisitorTokens(key).issue(
        VisitorSession(v.visitor_id, "", channel_key_hash("x"), now + 60)
    )
    for token in (forged, expired, other_channel, v.token + "x", "a.b"):
        with pytest.raises(websockets.ConnectionClosed):
            await v.connect(token=token)
        await v.close()
    # A first frame that is not hello.
    v.ws = await websockets.connect(v.socket_url(), origin=v.origin)  # type: ignore[arg-type]
    await v.ws.send(json.dumps({"type": "message", "id": "x", "text": "hi"}))
    assert await closed_with(v) == 4401


async def test_hostile_frames_are_refused_and_text_is_kept_as_text(site: WebchatSite) -> None:
    v = await visitor(site)
    await v.connect()
    for raw, code in [
        ("not json", "INVALID_JSON"),
        ("[1, 2]", "INVALID_JSON"),
        ('{"type": "shout"}', "UNKNOWN_TYPE"),
        ('{"type": "message", "id": "<script>", "text": "x"}', "INVALID_FRAME"),
        ('{"type": "message", "id": "a", "text": 5}', "INVALID_FRAME"),
        (json.dumps({"type": "message", "id": "a", "text": "x" * 4097}), "TOO_LONG"),
        ('{"type": "read", "message": "../../etc"}', "INVALID_FRAME"),
        ("[" * 5000 + "]" * 5000, "INVALID_JSON"),
    ]:
        await v.ws.send(raw)
        assert (await v.next("error"))["code"] == code, raw
    await v.ws.send(b"\x00\x01binary")
    assert (await v.next("error"))["code"] == "INVALID_JSON"
    script = '<script>alert("x")</script>\u0007 <img src=x onerror=alert(1)>'
    await v.say("s1", script)
    frame = await v.next("message")
    stored = await site.message(frame["message"])
    assert stored is not None
    assert stored.content.text.body == '<script>alert("x")</script> <img src=x onerror=alert(1)>'
    # A frame over 32 KiB closes the socket before it is read.
    await v.ws.send(json.dumps({"type": "message", "id": "big", "text": "y" * 40_000}))
    assert await closed_with(v) == 1009
    # Garbage over and over: closed (1008).
    await v.connect()
    for _ in range(25):
        try:
            await v.ws.send("garbage")
        except websockets.ConnectionClosed:
            break
    assert await closed_with(v) == 1008


async def test_visitor_messages_are_rate_limited(site: WebchatSite) -> None:
    _, key = await site.add_channel(messages_per_minute=3)
    v = await asyncio.to_thread(Visitor.start, site.base, key)
    await v.connect()
    for i in range(4):
        await v.say(f"m{i}", f"message {i}")
    refused = await v.next("error")
    assert refused["code"] == "RATE_LIMITED" and refused["id"] == "m3"
    accepted = [f["id"] for f in v.frames if f["type"] == "accepted"]
    assert accepted == ["m0", "m1", "m2"]
    await v.close()


async def test_resume_is_exactly_once_and_private(site: WebchatSite) -> None:
    ana, bob = await visitor(site), await visitor(site)
    other_tenant = await seed_tenant(site.container.engine)
    _, other_key = await site.add_channel(other_tenant)
    eve = await asyncio.to_thread(Visitor.start, site.base, other_key)
    for v in (ana, bob, eve):
        await v.connect()
    conversation = await first_message(site, ana, "hi from ana")
    await first_message(site, bob, "hi from bob")
    await first_message(site, eve, "hi from eve")

    names = []
    for i in range(20):
        names.append(await site.agent_says(conversation, f"answer {i}"))
        if i == 7:
            # Ana's network drops mid-way; she comes back with her last seq.
            got = [f["message"] for f in ana.frames if f.get("from") == "agent"]
            await ana.close()
    seen = list(got)
    await ana.connect()
    while len(seen) < 20:
        frame = await ana.next("message")
        if frame["from"] == "agent":
            seen.append(frame["message"])
    assert seen == names  # every answer, in order, once
    await ana.send({"type": "ping"})
    await ana.next("pong")
    assert len([f for f in ana.frames if f.get("from") == "agent"]) == 20

    # Bob (same channel) and Eve (another tenant) saw nothing of Ana's conversation.
    await asyncio.sleep(0.5)
    for v in (bob, eve):
        await v.send({"type": "ping"})
        await v.next("pong")
        shown = [f.get("message", "") for f in v.frames]
        assert not any(name.startswith(conversation) for name in shown), v.frames
        assert [f["from"] for f in v.frames if f["type"] == "message"] == ["visitor"]
        await v.close()
    await ana.close()


async def test_receipts_move_agent_messages_to_delivered_and_read(site: WebchatSite) -> None:
    v, other = await visitor(site), await visitor(site)
    await v.connect()
    await other.connect()
    conversation = await first_message(site, v)
    other_conversation = await first_message(site, other)
    first = await site.agent_says(conversation, "one")
    second = await site.agent_says(conversation, "two")
    foreign = await site.agent_says(other_conversation, "not yours")
    for _ in range(2):
        await v.next("message")
    await v.send({"type": "received", "message": second})
    await v.send({"type": "read", "message": foreign})  # not shown to this visitor: ignored
    await v.send({"type": "read", "message": second})  # and every earlier one

    async def status(name: str) -> str:
        message = await site.message(name)
        assert message is not None
        return str(message.status)

    deadline = time.monotonic() + 20
    while (await status(first), await status(second)) != ("READ", "READ"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    assert await status(foreign) == "SENT"
    await v.close()
    await other.close()


async def test_uploads_respect_the_channel_limits(site: WebchatSite) -> None:
    _, key = await site.add_channel(
        max_upload_bytes=1000, allowed_mime_types=["image/png", "application/pdf"]
    )
    v = await asyncio.to_thread(Visitor.start, site.base, key)
    auth = {"authorization": f"Bearer {v.token}", "origin": "http://localhost"}
    async with httpx.AsyncClient(base_url=site.base, timeout=30) as http:
        url = f"/webchat/{key}/attachments"
        ok = await http.post(
            url,
            content=PNG,
            headers={**auth, "content-type": "image/png", "x-filename": "../a<b>.png"},
        )
        assert ok.status_code == 201, ok.text
        assert ok.json()["filename"] == "a<b>.png"
        assert (
            await http.post(url, content=b"<html>", headers={**auth, "content-type": "image/png"})
        ).status_code == 415
        assert (
            await http.post(url, content=b"x", headers={**auth, "content-type": "text/html"})
        ).status_code == 415
        assert (
            await http.post(url, content=b"", headers={**auth, "content-type": "image/png"})
        ).status_code == 400
        assert (
            await http.post(url, content=PNG * 20, headers={**auth, "content-type": "image/png"})
        ).status_code == 413
        assert (
            await http.post(url, content=PNG, headers={"content-type": "image/png"})
        ).status_code == 401
        download = f"{url}/{ok.json()['attachment']}"
        assert (await http.get(download)).status_code == 401
        got = await http.get(download, params={"token": v.token})
        assert got.status_code == 200 and got.content == PNG
        assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert got.headers["x-content-type-options"] == "nosniff"
    await v.connect()
    await v.send(
        {
            "type": "message",
            "id": "pic",
            "text": "my receipt",
            "attachment": ok.json()["attachment"],
        }
    )
    frame = await v.next("message")
    assert frame["content"]["media"]["url"] == download
    stored = await site.message(frame["message"])
    assert stored is not None
    media = stored.content.media
    assert media.type == content_pb2.MEDIA_TYPE_IMAGE and media.caption == "my receipt"
    assert media.attachment == f"tenants/{site.tenant_id}/attachments/{ok.json()['attachment']}"
    await v.send({"type": "message", "id": "ghost", "text": "", "attachment": "0" * 26})
    assert (await v.next("error"))["code"] == "UNKNOWN_ATTACHMENT"
    await v.close()


async def test_visitor_typing_reaches_agents_without_being_stored(site: WebchatSite) -> None:
    v = await visitor(site)
    await v.connect()
    await v.send({"type": "typing", "typing": True})  # no conversation yet: nobody to tell
    conversation = await first_message(site, v)
    stream = site.container.messaging.events.stream(
        site.tenant_id, 0, StreamFilter(["typing.*"], include_ephemeral=True)
    )
    seen = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.3)  # the stream is listening
    await v.send({"type": "typing", "typing": True})
    async with asyncio.timeout(20):
        event = await seen
    assert event.ephemeral and event.type == "typing.started"
    assert event.typing.conversation == conversation
    assert event.typing.actor.startswith(f"tenants/{site.tenant_id}/contacts/")
    seen.cancel()
    await v.close()
