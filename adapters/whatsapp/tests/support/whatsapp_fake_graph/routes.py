"""The fake's HTTP routes, shaped like graph.facebook.com/{version}/...

POST /{version}/{phone-number-id}/messages     send, mark read, typing indicator
POST /{version}/{phone-number-id}/media        multipart upload -> {"id"}
GET  /{version}/{media-id}                     media URL, mime type, sha256, size
GET  /media-download/{media-id}                the bytes (bearer token required)
GET  /{version}/{phone-number-id}              phone number fields
GET  /{version}/{waba-id}/message_templates    templates with `after` cursor paging
"""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from whatsapp_fake_graph.message_validation import validate_message_body, validate_status_body
from whatsapp_fake_graph.meta_errors import GraphError, error_body, invalid_parameter
from whatsapp_fake_graph.records import RecordedRequest

if TYPE_CHECKING:
    from whatsapp_fake_graph.fake import FakeGraphApi

_VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
_UPLOAD_LIMITS = {
    "image/jpeg": 5 * 2**20,
    "image/png": 5 * 2**20,
    "image/webp": 500 * 2**10,
    "video/mp4": 16 * 2**20,
    "video/3gpp": 16 * 2**20,
    "audio/aac": 16 * 2**20,
    "audio/amr": 16 * 2**20,
    "audio/mpeg": 16 * 2**20,
    "audio/mp4": 16 * 2**20,
    "audio/ogg": 16 * 2**20,
    "text/plain": 100 * 2**20,
    "application/pdf": 100 * 2**20,
}


def _error_response(
    error: GraphError,
    fake: FakeGraphApi,
    retry_after: str | None = None,
    usage_minutes: int | None = None,
) -> JSONResponse:
    headers: dict[str, str] = (
        {"www-authenticate": 'OAuth "Facebook Platform" "invalid_token"'}
        if error.code == 190
        else {}
    )
    if retry_after:
        headers["retry-after"] = retry_after
    if usage_minutes is not None:
        headers["x-business-use-case-usage"] = json.dumps(
            {
                fake.waba_id: [
                    {
                        "type": "whatsapp",
                        "call_count": 100,
                        "total_cputime": 1,
                        "total_time": 1,
                        "estimated_time_to_regain_access": usage_minutes,
                    }
                ]
            }
        )
    return JSONResponse(error.body(), status_code=error.http_status, headers=headers)


async def _record(fake: FakeGraphApi, request: Request, **extra: Any) -> None:
    fake.requests.append(
        RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            **extra,
        )
    )


def _check_common(fake: FakeGraphApi, request: Request, endpoint: str) -> None:
    if not _VERSION.match(request.path_params.get("version", "v0.0")):
        raise invalid_parameter("Unknown path components")
    fake.check_token(request.headers.get("authorization"))
    failure = fake.take_failure(endpoint)
    if failure is not None:
        error = GraphError(failure.code, http_status=failure.http_status)
        raise _Programmed(error, failure.retry_after, failure.usage_minutes)


class _Programmed(Exception):
    def __init__(
        self, error: GraphError, retry_after: str | None, usage_minutes: int | None
    ) -> None:
        self.error, self.retry_after, self.usage_minutes = error, retry_after, usage_minutes


def _unknown_node(node: str, method: str) -> GraphError:
    return GraphError(
        100,
        "",
        message=f"Unsupported {method} request. Object with ID '{node}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def build_app(fake: FakeGraphApi) -> Starlette:
    """The Starlette application serving ``fake``."""

    async def guarded(request: Request, endpoint: str, handler: Any) -> Response:
        try:
            _check_common(fake, request, endpoint)
            result: Response = await handler()
            return result
        except _Programmed as programmed:
            return _error_response(
                programmed.error, fake, programmed.retry_after, programmed.usage_minutes
            )
        except GraphError as error:
            return _error_response(error, fake)

    async def messages(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        await _record(fake, request, json=body)

        async def handle() -> Response:
            if request.path_params["node"] != fake.phone_number_id:
                raise _unknown_node(request.path_params["node"], "post")
            if not isinstance(body, dict):
                raise invalid_parameter("The request body must be a JSON object.")
            if "status" in body:
                if body.get("messaging_product") != "whatsapp":
                    raise invalid_parameter("The parameter messaging_product is required.")
                validate_status_body(body)
                fake.read_receipts.append(body)
                return JSONResponse({"success": True})
            validate_message_body(body, set(fake.media), fake.templates)
            return JSONResponse(fake.accept_message(body))

        return await guarded(request, "messages", handle)

    async def media_upload(request: Request) -> Response:
        form, file = _parse_multipart(request.headers.get("content-type", ""), await request.body())
        await _record(fake, request, form=form, file=file)

        async def handle() -> Response:
            if request.path_params["node"] != fake.phone_number_id:
                raise _unknown_node(request.path_params["node"], "post")
            if form.get("messaging_product") != "whatsapp":
                raise invalid_parameter("The parameter messaging_product is required.")
            if file is None:
                raise invalid_parameter("The parameter file is required.")
            _, content_type, data = file
            limit = _UPLOAD_LIMITS.get(content_type.split(";")[0].strip().lower())
            if limit is None:
                raise invalid_parameter(
                    "Param file must be a file with one of the following types: "
                    + ", ".join(_UPLOAD_LIMITS)
                )
            if len(data) > limit:
                raise GraphError(131053, f"File is too large: {len(data)} bytes, limit {limit}")
            return JSONResponse({"id": fake.add_media(data, content_type)})

        return await guarded(request, "media", handle)

    async def node(request: Request) -> Response:
        await _record(fake, request)
        node_id = request.path_params["node"]

        async def handle() -> Response:
            if node_id == fake.phone_number_id:
                return JSONResponse(
                    {
                        "display_phone_number": fake.display_phone_number,
                        "verified_name": fake.verified_name,
                        "quality_rating": fake.quality_rating,
                        "id": fake.phone_number_id,
                    }
                )
            media = fake.media.get(node_id)
            if media is None:
                raise _unknown_node(node_id, "get")
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{fake.base_url}/media-download/{node_id}?ext=1",
                    "mime_type": media.mime_type,
                    "sha256": media.sha256,
                    "file_size": len(media.data),
                    "id": node_id,
                }
            )

        return await guarded(request, "node", handle)

    async def download(request: Request) -> Response:
        await _record(fake, request)
        try:
            fake.check_token(request.headers.get("authorization"))
        except GraphError:
            return Response(b"", status_code=401)
        media = fake.media.get(request.path_params["media_id"])
        if media is None:
            return Response(b"", status_code=404)
        return Response(media.data, media_type=media.mime_type)

    async def templates(request: Request) -> Response:
        await _record(fake, request)

        async def handle() -> Response:
            if request.path_params["node"] != fake.waba_id:
                raise _unknown_node(request.path_params["node"], "get")
            limit = int(request.query_params.get("limit", "25"))
            return JSONResponse(fake.template_page(limit, request.query_params.get("after", "")))

        return await guarded(request, "message_templates", handle)

    async def not_found(request: Request) -> Response:
        await _record(fake, request)
        return JSONResponse(error_body(100, message="Unknown path components"), status_code=400)

    return Starlette(
        routes=[
            Route("/media-download/{media_id}", download, methods=["GET"]),
            Route("/{version}/{node}/messages", messages, methods=["POST"]),
            Route("/{version}/{node}/media", media_upload, methods=["POST"]),
            Route("/{version}/{node}/message_templates", templates, methods=["GET"]),
            Route("/{version}/{node}", node, methods=["GET"]),
            Route("/{path:path}", not_found, methods=["GET", "POST", "DELETE"]),
        ]
    )


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
    """multipart/form-data fields and the one file, with the stdlib's MIME parser."""
    if not content_type.startswith("multipart/form-data"):
        return {}, None
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    form: dict[str, str] = {}
    file: tuple[str, str, bytes] | None = None
    assert isinstance(message, EmailMessage)
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            file = (filename, part.get_content_type(), data)
        else:
            form[name] = data.decode()
    return form, file
