"""HTTP routes of attachments.

- ``GET /media/{tenant}/{attachment}?expires=&signature=``: the download behind
  ``Attachment.download_url``. No credentials: the signature is the authorization (checked in
  constant time; wrong, expired and unknown all answer the same 404). The body is streamed;
  ``Content-Disposition: attachment`` and ``nosniff`` keep a browser from rendering it as a
  page of this origin.
- ``POST /upload/v1/tenants/{tenant}/attachments?filename=``: the upload for files over the
  16 MiB of CreateAttachment, the body streamed to storage as it arrives (the media type is
  the request's Content-Type). Credentials and permissions as CreateAttachment; the answer is
  the Attachment as REST renders it, errors as google.rpc.Status JSON.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import quote

from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from linktor.gateway.status import http_status_for, status_json
from linktor.server.api.errors import to_status
from linktor.server.identity.app.authenticate import Authenticator
from linktor.server.infra.media.port import MediaMissing
from linktor.server.logs import get_logger
from linktor.server.media.api.mapping import attachment_to_proto
from linktor.server.media.app.attachments import Attachments
from linktor.server.media.domain.attachment import family_of
from linktor.server.shared.errors import DomainError, InvalidArgument

log = get_logger(__name__)

CREATE_METHOD = "/linktor.v1.AttachmentService/CreateAttachment"
_OPAQUE = "application/octet-stream"
_NOT_FOUND = {"error": "this download link is not valid or has expired"}


def _error(error: DomainError) -> JSONResponse:
    status = to_status(error)
    return JSONResponse(status_json(status), status_code=http_status_for(status.code))


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def media_routes(attachments: Attachments, authenticator: Authenticator) -> list[Route]:
    async def download(request: Request) -> Response:
        opened = await attachments.open_download(
            request.path_params["tenant"],
            request.path_params["attachment"],
            request.query_params.get("expires", ""),
            request.query_params.get("signature", ""),
        )
        if opened is None:
            return JSONResponse(_NOT_FOUND, status_code=404)
        attachment, chunks = opened
        try:
            first = await anext(chunks, b"")
        except MediaMissing:
            log.error("attachment bytes missing from storage", attachment=attachment.name)
            return JSONResponse(_NOT_FOUND, status_code=404)

        async def body() -> AsyncIterator[bytes]:
            yield first
            async for chunk in chunks:
                yield chunk

        headers = {
            "content-length": str(attachment.size_bytes),
            "content-disposition": _disposition(attachment.filename or attachment.id),
            "x-content-type-options": "nosniff",
            "content-security-policy": "sandbox; default-src 'none'",
            "cache-control": "private, max-age=300",
            "etag": f'"{attachment.sha256}"',
        }
        # Media received from contacts keeps the provider's type; one that may not be stored
        # by upload (HTML, SVG ...) is served as opaque bytes.
        served_type = attachment.mime_type if family_of(attachment.mime_type) else _OPAQUE
        return StreamingResponse(body(), media_type=served_type, headers=headers)

    async def upload(request: Request) -> Response:
        try:
            principal = await authenticator.authenticate(
                request.headers.get("authorization"),
                CREATE_METHOD,
                request.client.host if request.client else "",
            )
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit():
                limit = attachments.policy.max_bytes
                if int(declared) > limit:
                    raise InvalidArgument.for_field("body", f"larger than {limit} bytes")
            view = await attachments.create_streamed(
                principal,
                request.path_params["tenant"],
                request.query_params.get("filename", ""),
                request.headers.get("content-type", ""),
                request.stream(),
            )
        except DomainError as exc:
            return _error(exc)
        body = json_format.MessageToDict(attachment_to_proto(view))
        return Response(json.dumps(body), status_code=200, media_type="application/json")

    return [
        Route("/media/{tenant}/{attachment}", download, methods=["GET"]),
        Route("/upload/v1/tenants/{tenant}/attachments", upload, methods=["POST"]),
    ]
