"""Calls made before anyone can log in: a person sets their password with the one-time
setup token an admin issued for them (``UserService.IssuePasswordSetup``) or a platform
operator printed (``linktor user password-setup``).

>>> from linktor.sdk import accounts
>>> user = accounts.set_password("lkps_...", "a long new password")
>>> client = Linktor(email=user.email, password="a long new password")
"""

from __future__ import annotations

import grpc

from linktor.sdk.errors import from_rpc_error
from linktor.sdk.options import ClientOptions, address_from_env
from linktor.v1 import auth_pb2, auth_pb2_grpc, user_pb2


def set_password(
    token: str,
    password: str,
    *,
    address: str | None = None,
    tls: bool | None = None,
    timeout: float = 30.0,
) -> user_pb2.User:
    """Set the password of the token's person (at least 12 characters); their invited
    memberships become active and their other sessions end. Returns the user, whose email
    logs in from now on.

    The token works once and is never retried here: a repeat after a lost answer would be
    refused as used. Raises :class:`~linktor.sdk.errors.Unauthenticated` for an unknown, used,
    replaced or expired token, :class:`~linktor.sdk.errors.InvalidArgument` for a password
    that is too short.
    """
    options = ClientOptions(address=address_from_env(address), tls=tls, timeout=timeout)
    channel = options.open_channel()
    try:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        request = auth_pb2.SetPasswordRequest(token=token, password=password)
        try:
            answer: auth_pb2.SetPasswordResponse = stub.SetPassword(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, method="SetPassword") from None
    finally:
        channel.close()
    return answer.user
