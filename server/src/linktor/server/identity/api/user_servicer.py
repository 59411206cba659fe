"""linktor.v1.UserService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc

from linktor.server.identity.api.mapping import (
    client_address,
    mask_paths,
    role_from_proto,
    timestamp,
    user_to_proto,
)
from linktor.server.identity.app.passwords import Passwords
from linktor.server.identity.app.users import UserAdmin
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.idempotency import fingerprint
from linktor.server.shared.principal import current_principal
from linktor.v1 import user_pb2, user_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def request_fingerprint(request: user_pb2.CreateUserRequest) -> str:
    """The request's hash for request_id checks, without the password (never stored, even
    hashed, outside its Argon2 hash)."""
    copy = user_pb2.CreateUserRequest()
    copy.CopyFrom(request)
    copy.user.ClearField("password")
    return fingerprint(copy)


def _user_name(name: str, field: str = "name") -> tuple[str, str]:
    parts = names.USER.parse(name, field)
    return parts["tenant"], parts["user"]


class UserServicer(user_pb2_grpc.UserServiceServicer):
    def __init__(self, users: UserAdmin, passwords: Passwords) -> None:
        self._users = users
        self._passwords = passwords

    async def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: Context
    ) -> user_pb2.User:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        if not request.HasField("user"):
            raise InvalidArgument.for_field("user", "is required")
        member = await self._users.create(
            current_principal(),
            tenant_id,
            email=request.user.email,
            display_name=request.user.display_name,
            role=role_from_proto(request.user.role),
            password=request.user.password,
            request_id=request.request_id,
            request_hash=request_fingerprint(request),
            client_address=client_address(context.peer()),
        )
        return user_to_proto(member)

    async def GetUser(self, request: user_pb2.GetUserRequest, context: Context) -> user_pb2.User:
        tenant_id, user_id = _user_name(request.name)
        return user_to_proto(await self._users.get(current_principal(), tenant_id, user_id))

    async def ListUsers(
        self, request: user_pb2.ListUsersRequest, context: Context
    ) -> user_pb2.ListUsersResponse:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        members, token = await self._users.list(
            current_principal(),
            tenant_id,
            size=request.page_size,
            token=request.page_token,
            show_deactivated=request.show_deactivated,
        )
        return user_pb2.ListUsersResponse(
            users=[user_to_proto(m) for m in members], next_page_token=token
        )

    async def UpdateUser(
        self, request: user_pb2.UpdateUserRequest, context: Context
    ) -> user_pb2.User:
        tenant_id, user_id = _user_name(request.user.name, "user.name")
        paths = mask_paths(request.update_mask, ("display_name", "role"), "user")
        if not paths:
            paths = {"display_name"} if request.user.display_name else set()
            if request.user.role:
                paths.add("role")
        role = role_from_proto(request.user.role) if "role" in paths else None
        if "role" in paths and role is None:
            raise InvalidArgument.for_field("user.role", "must be OWNER, ADMIN, AGENT or VIEWER")
        member = await self._users.update(
            current_principal(),
            tenant_id,
            user_id,
            display_name=request.user.display_name if "display_name" in paths else None,
            role=role,
            etag=request.user.etag,
            client_address=client_address(context.peer()),
        )
        return user_to_proto(member)

    async def DeactivateUser(
        self, request: user_pb2.DeactivateUserRequest, context: Context
    ) -> user_pb2.User:
        tenant_id, user_id = _user_name(request.name)
        member = await self._users.deactivate(
            current_principal(), tenant_id, user_id, client_address(context.peer())
        )
        return user_to_proto(member)

    async def ReactivateUser(
        self, request: user_pb2.ReactivateUserRequest, context: Context
    ) -> user_pb2.User:
        tenant_id, user_id = _user_name(request.name)
        member = await self._users.reactivate(
            current_principal(), tenant_id, user_id, client_address(context.peer())
        )
        return user_to_proto(member)

    async def IssuePasswordSetup(
        self, request: user_pb2.IssuePasswordSetupRequest, context: Context
    ) -> user_pb2.PasswordSetup:
        tenant_id, user_id = _user_name(request.name)
        issued = await self._passwords.issue(
            current_principal(), tenant_id, user_id, client_address(context.peer())
        )
        return user_pb2.PasswordSetup(
            user=issued.member.name,
            token=issued.token,
            expire_time=timestamp(issued.expire_time),
        )
