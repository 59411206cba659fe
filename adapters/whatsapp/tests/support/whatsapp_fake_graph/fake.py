"""The fake Graph API's state and behaviour (the HTTP routes are in ``routes``).

One FakeGraphApi is one Meta app with one WABA and one business phone number. Tests
program it (failures, templates, media, the customer service window), point the adapter
at its ``base_url``, and assert on what it received (``requests``, ``sent``). It can
also act as Meta towards a webhook URL: signed deliveries of statuses and messages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from linktor.adapterkit.testing import serve_asgi
from whatsapp_fake_graph import payloads
from whatsapp_fake_graph.meta_errors import CATALOGUE, GraphError
from whatsapp_fake_graph.records import RecordedRequest, StoredMedia
from whatsapp_fake_graph.routes import build_app


@dataclass
class ProgrammedFailure:
    code: int
    remaining: int
    endpoint: str
    http_status: int | None
    retry_after: str | None
    usage_minutes: int | None


class FakeGraphApi:
    """A Meta Graph API double for one WhatsApp business number."""

    def __init__(
        self,
        *,
        access_token: str = "test-access-token",
        phone_number_id: str = "106540352242922",
        waba_id: str = "102290129340398",
        app_secret: str = "test-app-secret",
        display_phone_number: str = "15550783881",
        verified_name: str = "Linktor Test",
        enforce_reply_window: bool = False,
        auto_statuses: Sequence[str] = (),
        webhook_url: str = "",
    ) -> None:
        self._settings: dict[str, Any] = {
            "access_token": access_token,
            "phone_number_id": phone_number_id,
            "waba_id": waba_id,
            "app_secret": app_secret,
            "display_phone_number": display_phone_number,
            "verified_name": verified_name,
            "enforce_reply_window": enforce_reply_window,
            "auto_statuses": tuple(auto_statuses),
            "webhook_url": webhook_url,
        }
        self.base_url = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self.reset()

    def reset(self) -> None:
        """Back to the constructor's settings, forgetting what was programmed or recorded
        (the server keeps running: one fake can serve many tests)."""
        settings = self._settings
        self.access_token: str = settings["access_token"]
        self.phone_number_id: str = settings["phone_number_id"]
        self.waba_id: str = settings["waba_id"]
        self.app_secret: str = settings["app_secret"]
        self.display_phone_number: str = settings["display_phone_number"]
        self.verified_name: str = settings["verified_name"]
        self.quality_rating = "GREEN"
        # When True, free-form messages to a user who has not written in 24 hours are
        # accepted and then reported `failed` with #131047, as Meta does.
        self.enforce_reply_window: bool = settings["enforce_reply_window"]
        # Statuses delivered to `webhook_url` for every accepted message, in order.
        self.auto_statuses: tuple[str, ...] = settings["auto_statuses"]
        self.webhook_url: str = settings["webhook_url"]
        self.requests: list[RecordedRequest] = []
        self.sent: list[dict[str, Any]] = []
        self.read_receipts: list[dict[str, Any]] = []
        self.media: dict[str, StoredMedia] = {}
        self.templates: list[dict[str, Any]] = []
        self.pending_statuses: list[dict[str, Any]] = []
        self.deliveries: list[httpx.Response] = []
        self._failures: list[ProgrammedFailure] = []
        self._last_customer_message: dict[str, float] = {}

    # ------------------------------------------------------------------ programming
    def fail_next(
        self,
        code: int,
        *,
        times: int = 1,
        endpoint: str = "messages",
        http_status: int | None = None,
        retry_after: str | None = None,
        usage_minutes: int | None = None,
    ) -> None:
        """The next ``times`` calls to ``endpoint`` fail with Meta error ``code``.

        ``endpoint`` is the last path segment ("messages", "media", "message_templates")
        or "node" for GET /{id}. ``retry_after`` adds a Retry-After header,
        ``usage_minutes`` an X-Business-Use-Case-Usage header with
        estimated_time_to_regain_access.
        """
        if code not in CATALOGUE and http_status is None:
            raise ValueError(f"unknown Meta error {code}: pass http_status")
        self._failures.append(
            ProgrammedFailure(code, times, endpoint, http_status, retry_after, usage_minutes)
        )

    def take_failure(self, endpoint: str) -> ProgrammedFailure | None:
        for failure in self._failures:
            if failure.endpoint == endpoint and failure.remaining > 0:
                failure.remaining -= 1
                return failure
        return None

    def add_media(self, data: bytes, mime_type: str) -> str:
        """Stores media as if a customer had sent it; returns its media id."""
        media_id = str(secrets.randbelow(10**15) + 10**15)
        self.media[media_id] = StoredMedia(data, mime_type)
        return media_id

    def customer_wrote(self, wa_id: str, at: float | None = None) -> None:
        """Opens (or, with an old ``at``, closes) the 24-hour window for ``wa_id``."""
        self._last_customer_message[wa_id.removeprefix("+")] = time.time() if at is None else at

    def window_open(self, wa_id: str) -> bool:
        last = self._last_customer_message.get(wa_id.removeprefix("+"))
        return last is not None and time.time() - last < 24 * 3600

    # ------------------------------------------------------------------ behaviour
    def check_token(self, authorization: str | None) -> None:
        expected = f"Bearer {self.access_token}".encode()
        if not authorization or not hmac.compare_digest(authorization.encode(), expected):
            raise GraphError(
                190, "", message="Invalid OAuth access token - Cannot parse access token"
            )

    def accept_message(self, body: dict[str, Any]) -> dict[str, Any]:
        """Records an accepted message and answers as Meta does."""
        wamid = payloads.new_wamid()
        to = str(body["to"]).removeprefix("+")
        self.sent.append({**body, "id": wamid})
        window_closed = (
            self.enforce_reply_window
            and body.get("type") != "template"
            and not self.window_open(to)
        )
        if window_closed:
            error = CATALOGUE[131047]
            details = payloads.webhook_error(131047, error.title, error.details)
            statuses = [payloads.status_entry(wamid, "failed", to, error=details)]
        else:
            statuses = [payloads.status_entry(wamid, s, to) for s in self.auto_statuses]
        for entry in statuses:
            if "biz_opaque_callback_data" in body:
                # Meta echoes the value in every status of the message.
                entry["biz_opaque_callback_data"] = body["biz_opaque_callback_data"]
            self._queue_status(entry)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": str(body["to"]), "wa_id": to}],
            "messages": [{"id": wamid}],
        }

    def _queue_status(self, entry: dict[str, Any]) -> None:
        self.pending_statuses.append(entry)
        # One flusher at a time keeps deliveries in the order the statuses happened.
        if self.webhook_url and all(task.done() for task in self._tasks):
            task = asyncio.get_running_loop().create_task(self.flush_statuses())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def template_page(self, limit: int, after: str) -> dict[str, Any]:
        start = int(base64.urlsafe_b64decode(after.encode()).decode()) + 1 if after else 0
        page = self.templates[start : start + limit]
        result: dict[str, Any] = {"data": page, "paging": {}}
        if page:
            end = start + len(page) - 1
            cursor = base64.urlsafe_b64encode(str(end).encode()).decode()
            result["paging"]["cursors"] = {
                "before": base64.urlsafe_b64encode(str(start).encode()).decode(),
                "after": cursor,
            }
            if end + 1 < len(self.templates):
                result["paging"]["next"] = (
                    f"{self.base_url}/v26.0/{self.waba_id}/message_templates?limit={limit}&after={cursor}"
                )
        return result

    # ------------------------------------------------------------------ acting as Meta
    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    async def deliver(
        self, payload: dict[str, Any], url: str = "", *, signature: str | None = None
    ) -> httpx.Response:
        """POSTs a webhook payload to ``url`` (default ``webhook_url``), signed like Meta."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "x-hub-signature-256": self.sign(body)}
        if signature is not None:
            headers["x-hub-signature-256"] = signature
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(url or self.webhook_url, content=body, headers=headers)
        self.deliveries.append(response)
        return response

    def payload(self, value: dict[str, Any]) -> dict[str, Any]:
        return payloads.envelope(
            value,
            waba_id=self.waba_id,
            phone_number_id=self.phone_number_id,
            display_phone_number=self.display_phone_number,
        )

    async def flush_statuses(self, url: str = "") -> None:
        """Delivers queued statuses, one webhook each, in the order they happened."""
        while self.pending_statuses:
            entry = self.pending_statuses.pop(0)
            await self.deliver(self.payload({"statuses": [entry]}), url)

    async def send_customer_text(self, wa_id: str, text: str, url: str = "") -> str:
        """A customer writes to the business: opens the window and delivers the message."""
        value = payloads.text_message(wa_id, text)
        self.customer_wrote(wa_id)
        await self.deliver(self.payload(value), url)
        return str(value["messages"][0]["id"])

    async def drain(self) -> None:
        """Waits for background status deliveries (bounded)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Runs the fake on a free loopback port; yields its base URL."""
        async with serve_asgi(build_app(self)) as base_url:
            self.base_url = base_url
            try:
                yield base_url
            finally:
                await self.drain()
