"""Attachments referenced by outbound content are looked up before validation: their real
media type, size and SHA-256 replace what the caller declared (a caller cannot pass a 90 MB
file off as 1 KB to get past a channel's limit), and one that is not the tenant's is refused."""

from __future__ import annotations

from linktor.server.media.domain.attachment import normalize_mime
from linktor.server.messaging.app.media import MediaFiles
from linktor.server.messaging.domain.media_parts import attachment_id, media_parts
from linktor.server.messaging.domain.validation import Violations
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.v1 import content_pb2


async def resolve_attachments(
    files: MediaFiles, tenant_id: str, content: content_pb2.MessageContent
) -> content_pb2.MessageContent:
    """``content`` with every attachment's facts filled in (a copy when anything changed)."""
    if not any(attachment_id(media) for _, media in media_parts(content)):
        return content
    resolved = content_pb2.MessageContent()
    resolved.CopyFrom(content)
    v = Violations()
    for path, media in media_parts(resolved):
        if attachment_id(media) is None:
            continue
        try:
            parts = names.ATTACHMENT.parse(media.attachment, f"{path}.attachment")
        except InvalidArgument:
            continue  # validate_content reports the malformed name
        found = None
        if parts["tenant"] == tenant_id:
            found = await files.lookup(tenant_id, parts["attachment"])
        if found is None:
            v.add(f"{path}.attachment", f"{media.attachment} not found")
            continue
        declared = normalize_mime(media.mime_type)
        if declared and declared != found.mime_type:
            v.add(f"{path}.mime_type", f"is {declared} but the attachment is {found.mime_type}")
        media.mime_type = found.mime_type
        media.size_bytes = found.size_bytes
        media.sha256 = found.sha256
        if not media.filename:
            media.filename = found.filename
    v.raise_if_any()
    return resolved
