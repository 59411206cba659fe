"""The gRPC services Linktor serves, read from the generated descriptors."""

from __future__ import annotations

from google.protobuf.descriptor import FileDescriptor, ServiceDescriptor

from linktor.v1 import (
    api_key_pb2,
    attachment_pb2,
    audit_pb2,
    auth_pb2,
    channel_pb2,
    contact_pb2,
    conversation_pb2,
    event_pb2,
    message_pb2,
    tenant_pb2,
    user_pb2,
    webhook_pb2,
)

PUBLIC_API_FILES: tuple[FileDescriptor, ...] = tuple(
    module.DESCRIPTOR
    for module in (
        tenant_pb2,
        user_pb2,
        auth_pb2,
        api_key_pb2,
        audit_pb2,
        channel_pb2,
        contact_pb2,
        conversation_pb2,
        message_pb2,
        attachment_pb2,
        event_pb2,
        webhook_pb2,
    )
)


def public_services() -> list[ServiceDescriptor]:
    """Every service of the public linktor.v1 API."""
    return [s for f in PUBLIC_API_FILES for s in f.services_by_name.values()]
