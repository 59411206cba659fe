"""The widget in a real browser (Debian's chromium, headless, driven by playwright-core from
web/widget/test/drive.mjs) on a page that embeds it, against `linktor serve`: the visitor
writes, the message appears through the API and the event stream, the agent answers with
SendMessage and the answer shows in the widget within 1 s; keyboard access, live region,
theming, injection attempts rendered as text, the session and transcript kept across a
reload. Screenshots are kept under .artifacts/webchat/ (printed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lktest.platform import client_for, create_tenant
from lktest.serve import running_serve
from lktest.services import free_port
from lktest.webchat import channel_key, create_webchat_channel

from linktor.v1 import content_pb2, event_pb2, message_pb2

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
WIDGET = REPO / "web" / "widget"
ARTIFACTS = REPO / ".artifacts" / "webchat"
CHROMIUM = os.environ.get("LINKTOR_CHROMIUM", "/usr/bin/chromium")
INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><b>bold</b>'


def _require_browser() -> None:
    missing = [
        what
        for what, ok in (
            (CHROMIUM, os.access(CHROMIUM, os.X_OK)),
            (
                "web/widget/node_modules (make widget-deps)",
                (WIDGET / "node_modules" / "playwright-core").is_dir(),
            ),
            ("node", shutil.which("node") is not None),
        )
        if not ok
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing for the browser test: {missing} (make test installs them)")
        pytest.skip(f"missing for the browser test: {missing} (make browser widget-deps)")


@pytest.fixture
def page_server() -> Iterator[tuple[str, list[str]]]:
    """An origin of its own serving the embedding page; the page's HTML is set later."""
    html: list[str] = ["<!doctype html><title>empty</title>"]

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html[0].encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}", html
    finally:
        server.shutdown()


class Driver:
    def __init__(self, page_url: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["node", "test/drive.mjs", page_url, str(ARTIFACTS), CHROMIUM],
            cwd=WIDGET,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.read() == {"ready": True}

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the browser driver exited"
        return dict(json.loads(line))

    def __call__(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()
        answer = self.read()
        assert "error" not in answer, answer
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write('{"cmd": "quit"}\n')
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def test_widget_in_a_real_browser(tmp_path: Path, page_server: tuple[str, list[str]]) -> None:
    _require_browser()
    origin, html = page_server
    data = tmp_path / "data"
    with running_serve(data) as serve:
        tenant = create_tenant(data)
        with client_for(serve, tenant) as client:
            channel = create_webchat_channel(
                client,
                origins=(origin,),
                title="Acme support",
                greeting="Hello! Ask us anything.",
                color="#0f766e",
            )
            html[0] = (
                "<!doctype html><html lang=en><head><meta charset=utf-8><title>Acme</title></head>"
                "<body><h1>Acme</h1><p>A page that embeds the chat.</p>"
                f'<script src="{serve.http_base}/widget.js" data-channel="{channel_key(channel)}" async></script>'
                "</body></html>"
            )
            events = client.events.StreamEvents(
                event_pb2.StreamEventsRequest(parent=client.tenant, types=["message.created"]),
                metadata=client.metadata,
                timeout=120,
            )
            browser = Driver(origin + "/")
            try:
                browser("load")
                browser("screenshot", name="1-closed")
                opened = browser("open_with_keyboard")
                assert opened == {
                    "expanded": "true",
                    "focused": "TEXTAREA",
                    "cmd": "open_with_keyboard",
                }
                state = browser("state")
                assert state["title"] == "Acme support"
                assert state["live"] == "polite"
                assert state["color"] == "rgb(15, 118, 110)"
                assert state["bubbles"][0].endswith("Hello! Ask us anything.")

                said = browser("say", text="Hi, where is my order?")
                conversation = said["message"].split("/messages/")[0]
                inbound = next(
                    e
                    for e in events
                    if e.message.direction == message_pb2.MESSAGE_DIRECTION_INBOUND
                )
                assert inbound.message.name == said["message"]
                assert inbound.message.content.text.body == "Hi, where is my order?"
                stored = client.messages.GetMessage(
                    message_pb2.GetMessageRequest(name=said["message"]), metadata=client.metadata
                )
                assert stored.content.text.body == "Hi, where is my order?"

                # The agent answers with the ordinary SendMessage: in the widget within 1 s.
                assert browser.process.stdin is not None
                browser.process.stdin.write(
                    json.dumps(
                        {"cmd": "expect_agent", "text": "It ships today", "timeout_ms": 5000}
                    )
                    + "\n"
                )
                browser.process.stdin.flush()
                time.sleep(0.3)  # the browser is watching before the agent sends
                started = time.monotonic()
                sent = client.messages.SendMessage(
                    message_pb2.SendMessageRequest(
                        conversation=conversation,
                        content=content_pb2.MessageContent(
                            text=content_pb2.TextContent(body="It ships today 📦")
                        ),
                    ),
                    metadata=client.metadata,
                    timeout=30,
                )
                shown = browser.read()
                elapsed = time.monotonic() - started
                assert "error" not in shown, shown
                assert shown["message"] == sent.name
                assert elapsed < 1.0, f"the reply took {elapsed:.3f} s to show"
                browser("screenshot", name="2-conversation")

                # Hostile text is shown as text, never run or parsed as HTML.
                browser("say", text=INJECTION)
                state = browser("state")
                assert state["bubbles"][-1].endswith(INJECTION)
                assert state["injected"] == 0 and state["pwned"] is False

                closed = browser("escape")
                assert closed["expanded"] == "false" and closed["focused"] == "launcher"

                # A reload keeps the visitor and the transcript (localStorage), and resumes.
                before = browser("state")
                browser("reload")
                after = browser("state")
                assert after["visitor"] == before["visitor"]
                assert after["transcript"] == before["transcript"] == 3
                browser("open_with_keyboard")
                browser("screenshot", name="3-after-reload")
                assert browser("problems")["problems"] == []
            finally:
                events.cancel()  # type: ignore[no-untyped-call]
                browser.close()
    print(f"\nwidget screenshots: {ARTIFACTS}")
