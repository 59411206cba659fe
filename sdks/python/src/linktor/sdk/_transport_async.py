"""The asyncio transport: generated gRPC stubs on a grpc.aio channel, plus authentication,
the caller's tenant, typed errors and retries. The sync twin is ``_transport_sync``."""

# `timeout` parameters are gRPC deadlines of each attempt, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from linktor.sdk._generated.specs import AUTH_GET_PRINCIPAL
from linktor.sdk._spec import MethodSpec, RequestT, ResponseT, fill_tenant, needs_tenant
from linktor.sdk.credentials import Credentials, SessionState, TokensCallback
from linktor.sdk.errors import InvalidArgument, Unauthenticated, from_rpc_error
from linktor.sdk.options import ClientOptions
from linktor.v1 import auth_pb2, auth_pb2_grpc

_LOGIN = "/linktor.v1.AuthService/Login"
_REFRESH = "/linktor.v1.AuthService/Refresh"
NO_TENANT = (
    "these credentials act for no tenant (a platform operator key): "
    "pass tenant= to the client or full resource names"
)


class AsyncSession(SessionState):
    """Logs in and refreshes on demand; one refresh at a time however many calls wait."""

    def __init__(
        self, credentials: Credentials, on_tokens: TokensCallback | None, auth: Any
    ) -> None:
        super().__init__(credentials, on_tokens)
        self._auth = auth
        self._lock = asyncio.Lock()

    async def bearer(self) -> str:
        current = self.current_bearer()
        if current is not None:
            return current
        async with self._lock:
            return self.current_bearer() or await self._renew()

    async def recover(self, used: str) -> bool:
        """After UNAUTHENTICATED with ``used``: get new tokens; True if a retry may work."""
        if self.static_bearer is not None:
            return False
        async with self._lock:
            if self.current_bearer() not in (None, used):
                return True  # another call renewed meanwhile
            self.forget_access()
            await self._renew()
            return True

    async def _renew(self) -> str:
        if self.can_refresh():
            try:
                reply = await self._auth.Refresh(self.refresh_request(), timeout=30)
                return self.accept(reply.tokens)
            except grpc.RpcError as exc:
                # A refused refresh (expired, revoked, reused) ends the session; with a
                # password we simply log in again.
                if not self.can_login():
                    raise from_rpc_error(exc, method=_REFRESH) from None
        if not self.can_login():
            raise Unauthenticated("the session expired: log in again", method=_REFRESH)
        try:
            login = await self._auth.Login(self.login_request(), timeout=30)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, method=_LOGIN) from None
        return self.accept(login.tokens, login.user.name)

    async def logout(self) -> None:
        if self.tokens is None or not self.tokens.refresh_token:
            return
        request = auth_pb2.LogoutRequest(refresh_token=self.tokens.refresh_token)
        try:
            await self._auth.Logout(request, timeout=30)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, method="/linktor.v1.AuthService/Logout") from None
        self.tokens = None


class AsyncTransport:
    """Calls RPCs of linktor.v1 for one client."""

    def __init__(
        self,
        credentials: Credentials,
        options: ClientOptions,
        *,
        tenant: str = "",
        on_tokens: TokensCallback | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        self.options = options
        if channel is not None:
            self.channel = channel
        elif options.uses_tls:
            self.channel = grpc.aio.secure_channel(
                options.target, options.channel_credentials(), options.channel_options()
            )
        else:
            self.channel = grpc.aio.insecure_channel(options.target, options.channel_options())
        self._stubs: dict[type[Any], Any] = {}
        self.session = AsyncSession(
            credentials, on_tokens, auth_pb2_grpc.AuthServiceStub(self.channel)
        )
        self._tenant = (
            tenant if not tenant or tenant.startswith("tenants/") else f"tenants/{tenant}"
        )

    def stub(self, stub_class: type[Any]) -> Any:
        found = self._stubs.get(stub_class)
        if found is None:
            found = self._stubs[stub_class] = stub_class(self.channel)
        return found

    async def tenant(self) -> str:
        """The caller's tenant: given, learned at login, or asked with GetPrincipal once."""
        if not self._tenant:
            await self.session.bearer()
            self._tenant = self.session.tenant
        if not self._tenant:
            principal = await self.call(AUTH_GET_PRINCIPAL, auth_pb2.GetPrincipalRequest())
            if not principal.tenant:
                raise InvalidArgument(NO_TENANT, method=AUTH_GET_PRINCIPAL.method)
            self._tenant = principal.tenant
        return self._tenant

    async def prepare(self, spec: MethodSpec[RequestT, Any], request: RequestT) -> RequestT:
        if needs_tenant(spec, request):
            fill_tenant(spec, request, await self.tenant())
        return request

    async def call(
        self,
        spec: MethodSpec[RequestT, ResponseT],
        request: RequestT,
        timeout: float | None = None,
    ) -> ResponseT:
        """One unary call with auth recovery and retries; raises LinktorError."""
        await self.prepare(spec, request)
        method = getattr(self.stub(spec.stub), spec.rpc)
        request_id = str(getattr(request, "request_id", ""))
        policy = self.options.retry
        retry_number, recovered = 0, False
        while True:
            bearer = await self.session.bearer()
            try:
                response: ResponseT = await method(
                    request,
                    metadata=(("authorization", bearer),),
                    timeout=timeout or self.options.timeout,
                )
                return response
            except grpc.RpcError as exc:
                error = from_rpc_error(exc, method=spec.method, request_id=request_id)
            if isinstance(error, Unauthenticated) and not recovered:
                recovered = True
                if await self.session.recover(bearer):
                    continue
            retry_number += 1
            delay = policy.next_delay(error, retry_number, idempotent=spec.idempotent)
            if delay is None:
                raise error
            await asyncio.sleep(delay)

    def open_stream(self, spec: MethodSpec[RequestT, Any], request: RequestT, bearer: str) -> Any:
        """Start a server-streaming call (the event stream handles reconnects)."""
        method = getattr(self.stub(spec.stub), spec.rpc)
        return method(request, metadata=(("authorization", bearer),))

    async def close(self) -> None:
        await self.channel.close(grace=None)
