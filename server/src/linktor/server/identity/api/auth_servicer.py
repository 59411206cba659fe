"""linktor.v1.AuthService and linktor.v1.AuditService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc

from linktor.server.identity.api.mapping import (
    audit_entry_to_proto,
    client_address,
    from_timestamp,
    principal_to_proto,
    timestamp,
    user_to_proto,
)
from linktor.server.identity.app.audit_log import AuditLog
from linktor.server.identity.app.passwords import Passwords
from linktor.server.identity.app.sessions import Session, Sessions
from linktor.server.shared import names
from linktor.server.shared.principal import current_principal
from linktor.v1 import audit_pb2, audit_pb2_grpc, auth_pb2, auth_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def _tokens(session: Session) -> auth_pb2.TokenPair:
    return auth_pb2.TokenPair(
        access_token=session.access_token,
        access_token_expire_time=timestamp(session.access_expire_time),
        refresh_token=session.refresh_token,
        refresh_token_expire_time=timestamp(session.refresh_expire_time),
        token_type="Bearer",  # noqa: S106 - the token type, not a secret
    )


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, sessions: Sessions, passwords: Passwords) -> None:
        self._sessions = sessions
        self._passwords = passwords

    async def Login(
        self, request: auth_pb2.LoginRequest, context: Context
    ) -> auth_pb2.LoginResponse:
        tenant_id = names.TENANT.parse(request.tenant, "tenant")["tenant"] if request.tenant else ""
        session = await self._sessions.login(
            request.email, request.password, tenant_id, client_address(context.peer())
        )
        return auth_pb2.LoginResponse(
            tokens=_tokens(session), user=user_to_proto(session.member), tenants=session.tenants
        )

    async def Refresh(
        self, request: auth_pb2.RefreshRequest, context: Context
    ) -> auth_pb2.RefreshResponse:
        session = await self._sessions.refresh(
            request.refresh_token, client_address(context.peer())
        )
        return auth_pb2.RefreshResponse(tokens=_tokens(session))

    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: Context
    ) -> auth_pb2.LogoutResponse:
        await self._sessions.logout(request.refresh_token, client_address(context.peer()))
        return auth_pb2.LogoutResponse()

    async def GetPrincipal(
        self, request: auth_pb2.GetPrincipalRequest, context: Context
    ) -> auth_pb2.Principal:
        return principal_to_proto(current_principal())

    async def SetPassword(
        self, request: auth_pb2.SetPasswordRequest, context: Context
    ) -> auth_pb2.SetPasswordResponse:
        member = await self._passwords.set_password(
            request.token, request.password, client_address(context.peer())
        )
        return auth_pb2.SetPasswordResponse(user=user_to_proto(member))

    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: Context
    ) -> auth_pb2.ChangePasswordResponse:
        await self._passwords.change(
            current_principal(),
            request.current_password,
            request.new_password,
            client_address(context.peer()),
        )
        return auth_pb2.ChangePasswordResponse()


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    async def ListAuditEntries(
        self, request: audit_pb2.ListAuditEntriesRequest, context: Context
    ) -> audit_pb2.ListAuditEntriesResponse:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        entries, token = await self._audit.list_entries(
            current_principal(),
            tenant_id,
            size=request.page_size,
            token=request.page_token,
            action_prefix=request.action_prefix,
            start_time=from_timestamp(request.start_time)
            if request.HasField("start_time")
            else None,
        )
        return audit_pb2.ListAuditEntriesResponse(
            audit_entries=[audit_entry_to_proto(e) for e in entries], next_page_token=token
        )
