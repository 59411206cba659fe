"""The asyncio client, ``AsyncLinktor``; its sync twin ``Linktor`` is generated from it."""

from __future__ import annotations

import os

import grpc

from linktor.sdk._generated import resources_async as generated
from linktor.sdk._transport_async import AsyncTransport
from linktor.sdk.credentials import ApiKey, Credentials, Password, TokensCallback
from linktor.sdk.options import ClientOptions, RetryPolicy, address_from_env
from linktor.sdk.resources_async import AsyncEvents, AsyncMessages


class AsyncLinktor:
    """A Linktor client for asyncio code.

    ``AsyncLinktor(api_key="lk_...")`` or ``AsyncLinktor(email=..., password=...)``; with
    neither, LINKTOR_API_KEY is used. The server is ``address`` (else LINKTOR_ADDRESS, else
    ``127.0.0.1:9090``). The tenant comes from the credentials; pass ``tenant`` only for a
    platform operator key. Use it as ``async with AsyncLinktor(...) as client:`` or call
    :meth:`close`.

    Every RPC of linktor.v1 is a method of a resource: ``client.messages.send(...)``,
    ``client.conversations.list(...)``, ``client.events.stream(...)`` ... Ids may be given
    bare (``"ch_1"``) where the full name is ``tenants/{tenant}/channels/ch_1``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        email: str | None = None,
        password: str | None = None,
        credentials: Credentials | None = None,
        tenant: str | None = None,
        address: str | None = None,
        tls: bool | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_tokens: TokensCallback | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        if credentials is None:
            if email is not None or password is not None:
                if not email or not password:
                    raise ValueError("email and password go together")
                credentials = Password(email, password, tenant or "")
            else:
                secret = api_key or os.environ.get("LINKTOR_API_KEY", "")
                if not secret:
                    raise ValueError("no credentials: pass api_key= or set LINKTOR_API_KEY")
                credentials = ApiKey(secret)
        options = ClientOptions(
            address=address_from_env(address),
            tls=tls,
            timeout=timeout,
            retry=retry or RetryPolicy(),
        )
        self._transport = AsyncTransport(
            credentials, options, tenant=tenant or "", on_tokens=on_tokens, channel=channel
        )
        transport = self._transport
        self.messages = AsyncMessages(transport)
        self.conversations = generated.AsyncConversations(transport)
        self.contacts = generated.AsyncContacts(transport)
        self.channels = generated.AsyncChannels(transport)
        self.events = AsyncEvents(transport)
        self.webhooks = generated.AsyncWebhooks(transport)
        self.api_keys = generated.AsyncApiKeys(transport)
        self.attachments = generated.AsyncAttachments(transport)
        self.users = generated.AsyncUsers(transport)
        self.tenants = generated.AsyncTenants(transport)
        self.audit = generated.AsyncAudit(transport)
        self.auth = generated.AsyncAuth(transport)

    async def tenant(self) -> str:
        """The caller's tenant (``tenants/{id}``), from the credentials."""
        return await self._transport.tenant()

    async def logout(self) -> None:
        """End a password session (revokes its refresh token); no-op for API keys."""
        await self._transport.session.logout()

    async def close(self) -> None:
        """Close the connection (open streams end)."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncLinktor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
