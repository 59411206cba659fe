"""Attachment <-> linktor.v1.Attachment."""

from __future__ import annotations

from linktor.server.media.app.attachments import AttachmentView
from linktor.server.shared.proto_time import set_time
from linktor.v1 import attachment_pb2


def attachment_to_proto(view: AttachmentView) -> attachment_pb2.Attachment:
    a = view.attachment
    result = attachment_pb2.Attachment(
        name=a.name,
        filename=a.filename,
        mime_type=a.mime_type,
        size_bytes=a.size_bytes,
        sha256=a.sha256,
        download_url=view.download_url,
    )
    set_time(result.download_expire_time, view.download_expire_time)
    set_time(result.create_time, a.create_time)
    return result
