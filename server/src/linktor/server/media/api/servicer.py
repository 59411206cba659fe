"""linktor.v1.AttachmentService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc

from linktor.server.media.api.mapping import attachment_to_proto
from linktor.server.media.app.attachments import Attachments
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.principal import current_principal
from linktor.v1 import attachment_pb2, attachment_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class AttachmentServicer(attachment_pb2_grpc.AttachmentServiceServicer):
    def __init__(self, attachments: Attachments) -> None:
        self._attachments = attachments

    async def CreateAttachment(
        self, request: attachment_pb2.CreateAttachmentRequest, context: Context
    ) -> attachment_pb2.Attachment:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        if not request.HasField("attachment"):
            raise InvalidArgument.for_field("attachment", "is required (filename, mime_type)")
        view = await self._attachments.create(
            current_principal(),
            tenant_id,
            request.attachment.filename,
            request.attachment.mime_type,
            request.data,
        )
        return attachment_to_proto(view)

    async def GetAttachment(
        self, request: attachment_pb2.GetAttachmentRequest, context: Context
    ) -> attachment_pb2.Attachment:
        parts = names.ATTACHMENT.parse(request.name)
        view = await self._attachments.get(
            current_principal(), parts["tenant"], parts["attachment"]
        )
        return attachment_to_proto(view)
