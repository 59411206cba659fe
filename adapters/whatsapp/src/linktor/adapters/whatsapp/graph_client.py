"""A thin client of the Graph API endpoints the adapter uses.

Every call authenticates with ``Authorization: Bearer <access token>``. Graph errors come
back as ``{"error": {"message", "type", "code", "error_subcode", "error_data":
{"messaging_product", "details"}, "fbtrace_id"}}`` and become GraphApiError with Meta's
wait hint (Retry-After, or ``estimated_time_to_regain_access`` of the business use case
usage header); network failures become GraphTransportError. The client never logs the
token or the bodies.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
from collections.abc import AsyncIterator
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from linktor.adapterkit.http import BlockedAddressError
from linktor.adapters.whatsapp.config import WhatsAppConfig
from linktor.adapters.whatsapp.content_checks import JsonObject

# Meta answers in well under a second normally; media downloads can be large.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DOWNLOAD_CHUNK_SIZE = 256 * 1024


class GraphApiError(Exception):
    """Meta answered with an error body (or a non-JSON error status)."""

    def __init__(
        self,
        *,
        http_status: int,
        code: int | None,
        message: str,
        subcode: int = 0,
        error_type: str = "",
        details: str = "",
        fbtrace_id: str = "",
        transient: bool = False,
        retry_after_seconds: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.transient = transient
        self.retry_after_seconds = retry_after_seconds
        self.provider_message = message
        super().__init__(f"Graph API error {code} (HTTP {http_status}): {message}")


class GraphTransportError(Exception):
    """Meta could not be reached, or did not answer in time."""

    def __init__(self, description: str, *, timeout: bool) -> None:
        self.timeout = timeout
        super().__init__(description)


def _retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Meta's own hint of how long to wait, when it gives one."""
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    usage = headers.get("x-business-use-case-usage")
    if usage:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            minutes = [
                float(item.get("estimated_time_to_regain_access", 0))
                for items in json.loads(usage).values()
                for item in items
            ]
            longest = max(minutes, default=0.0)
            if longest > 0:
                return longest * 60.0
    return None


def _error_from_response(response: httpx.Response) -> GraphApiError:
    retry_after = _retry_after_seconds(response.headers)
    try:
        error = response.json()["error"]
        error_data = error.get("error_data") or {}
        return GraphApiError(
            http_status=response.status_code,
            code=int(error["code"]),
            subcode=int(error.get("error_subcode", 0) or 0),
            message=str(error.get("message", "")),
            error_type=str(error.get("type", "")),
            details=str(error_data.get("details", "")) if isinstance(error_data, dict) else "",
            fbtrace_id=str(error.get("fbtrace_id", "")),
            transient=bool(error.get("is_transient", False)),
            retry_after_seconds=retry_after,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return GraphApiError(
            http_status=response.status_code,
            code=None,
            message=f"HTTP {response.status_code} {response.reason_phrase}",
            retry_after_seconds=retry_after,
        )


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class GraphClient:
    """The Graph API as one channel sees it: its version, phone number, WABA and token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        config: WhatsAppConfig,
        media_http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http
        # Media URLs come from Meta's answers, not from the configuration: fetch them with a
        # client that refuses private addresses (SSRF guard), except for a loopback test
        # double configured as the Graph API itself.
        self._media_http = media_http or http
        self._config = config
        self._root = f"{config.graph_base_url}/{config.api_version}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._config.access_token}"}

    async def _request(self, method: str, url: str, **kwargs: Any) -> JsonObject:
        try:
            response = await self._http.request(method, url, headers=self._headers(), **kwargs)
        except httpx.TimeoutException as exc:
            raise GraphTransportError(
                f"timeout calling the Graph API: {type(exc).__name__}", timeout=True
            ) from exc
        except httpx.TransportError as exc:
            raise GraphTransportError(
                f"cannot reach the Graph API: {type(exc).__name__}", timeout=False
            ) from exc
        if response.status_code >= 400:
            raise _error_from_response(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphApiError(
                http_status=response.status_code,
                code=None,
                message="Meta answered with invalid JSON",
            ) from exc
        if not isinstance(body, dict):
            raise GraphApiError(
                http_status=response.status_code, code=None, message="unexpected JSON"
            )
        return body

    async def send_message(self, body: JsonObject) -> JsonObject:
        """POST /{phone-number-id}/messages: send, mark read or show typing."""
        return await self._request(
            "POST", f"{self._root}/{self._config.phone_number_id}/messages", json=body
        )

    async def upload_media(self, file: IO[bytes], mime_type: str, filename: str) -> str:
        """POST /{phone-number-id}/media (multipart): returns the new media id."""
        result = await self._request(
            "POST",
            f"{self._root}/{self._config.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename or "file", file, mime_type)},
        )
        media_id = result.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise GraphApiError(http_status=502, code=None, message="upload answer has no media id")
        return media_id

    async def media_info(self, media_id: str) -> JsonObject:
        """GET /{media-id}: url, mime_type, sha256, file_size (the URL lives 5 minutes)."""
        return await self._request(
            "GET",
            f"{self._root}/{media_id}",
            params={"phone_number_id": self._config.phone_number_id},
        )

    @contextlib.asynccontextmanager
    async def download(self, url: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """GET a media URL with the bearer token; yields an iterator of chunks."""
        parts = urlsplit(url)
        local_double = _is_loopback_url(url) and _is_loopback_url(self._root)
        if parts.scheme != "https" and not (parts.scheme == "http" and local_double):
            # The token must never travel in clear text to a host we do not trust.
            raise GraphApiError(http_status=400, code=None, message="media URL is not https")
        http = self._http if local_double else self._media_http
        try:
            async with http.stream("GET", url, headers=self._headers()) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error_from_response(response)
                yield response.aiter_bytes(DOWNLOAD_CHUNK_SIZE)
        except BlockedAddressError as exc:
            raise GraphApiError(
                http_status=400, code=None, message="media URL points to a non-public address"
            ) from exc
        except httpx.TimeoutException as exc:
            raise GraphTransportError("timeout downloading media", timeout=True) from exc
        except httpx.TransportError as exc:
            raise GraphTransportError(
                f"cannot download media: {type(exc).__name__}", timeout=False
            ) from exc

    async def phone_number(self) -> JsonObject:
        """GET /{phone-number-id} with the fields a health check shows."""
        return await self._request(
            "GET",
            f"{self._root}/{self._config.phone_number_id}",
            params={"fields": "display_phone_number,verified_name,quality_rating"},
        )

    async def message_templates(self, after: str = "", limit: int = 100) -> JsonObject:
        """GET /{waba-id}/message_templates, one page; ``after`` is the paging cursor."""
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after
        return await self._request(
            "GET", f"{self._root}/{self._config.waba_id}/message_templates", params=params
        )
