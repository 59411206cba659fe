"""The identity context's servicers, as (add_to_server, servicer) pairs for the wiring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from linktor.server.identity.api.api_key_servicer import ApiKeyServicer
from linktor.server.identity.api.auth_servicer import AuditServicer, AuthServicer
from linktor.server.identity.api.tenant_servicer import TenantServicer
from linktor.server.identity.api.user_servicer import UserServicer
from linktor.server.identity.module import IdentityServices
from linktor.v1 import (
    api_key_pb2_grpc,
    audit_pb2_grpc,
    auth_pb2_grpc,
    tenant_pb2_grpc,
    user_pb2_grpc,
)


def identity_registrations(
    identity: IdentityServices,
) -> list[tuple[Callable[[Any, grpc.aio.Server], None], object]]:
    return [
        (tenant_pb2_grpc.add_TenantServiceServicer_to_server, TenantServicer(identity.tenants)),
        (
            user_pb2_grpc.add_UserServiceServicer_to_server,
            UserServicer(identity.users, identity.passwords),
        ),
        (
            auth_pb2_grpc.add_AuthServiceServicer_to_server,
            AuthServicer(identity.sessions, identity.passwords),
        ),
        (
            api_key_pb2_grpc.add_ApiKeyServiceServicer_to_server,
            ApiKeyServicer(identity.api_keys, identity.clock),
        ),
        (audit_pb2_grpc.add_AuditServiceServicer_to_server, AuditServicer(identity.audit)),
    ]
