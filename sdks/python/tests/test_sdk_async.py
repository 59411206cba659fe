"""The asyncio client: email/password sessions with automatic refresh and rotated refresh
tokens, async pagination, the same surface as the sync client."""

from __future__ import annotations

import inspect

import pytest
from sdktest import LiveServer, TenantLogin

from linktor.sdk import AsyncLinktor, Linktor, Tokens, errors
from linktor.sdk.credentials import RefreshToken

pytestmark = pytest.mark.e2e


async def test_password_login_takes_the_tenant_and_refreshes(
    live: LiveServer, tenant: TenantLogin
) -> None:
    seen: list[Tokens] = []
    async with AsyncLinktor(
        email=tenant.email, password=tenant.password, address=live.address, on_tokens=seen.append
    ) as client:
        assert await client.tenant() == tenant.tenant  # from the login, no GetPrincipal
        principal = await client.auth.get_principal()
        assert principal.email == tenant.email
        # The server stops accepting the access token: the client refreshes and retries once.
        session = client._transport.session
        assert session.tokens is not None
        session.tokens = Tokens(
            "not-a-jwt",
            session.tokens.access_expires_at,
            session.tokens.refresh_token,
            session.tokens.refresh_expires_at,
        )
        assert (await client.auth.get_principal()).email == tenant.email
        assert len(seen) == 2
        first, second = seen
        assert first.refresh_token != second.refresh_token  # rotated
    # The rotated (old) refresh token is dead, and presenting it revokes the session.
    async with AsyncLinktor(
        credentials=RefreshToken(first.refresh_token), address=live.address
    ) as stale:
        with pytest.raises(errors.RefreshTokenReused):
            await stale.auth.get_principal()


async def test_a_saved_refresh_token_resumes_the_session(
    live: LiveServer, tenant: TenantLogin
) -> None:
    saved: list[Tokens] = []
    async with AsyncLinktor(
        email=tenant.email, password=tenant.password, address=live.address, on_tokens=saved.append
    ) as client:
        await client.tenant()
    async with AsyncLinktor(
        credentials=RefreshToken(saved[-1].refresh_token),
        address=live.address,
        on_tokens=saved.append,
    ) as resumed:
        assert await resumed.tenant() == tenant.tenant
        assert len(saved) == 2
        await resumed.logout()


async def test_async_pagination_and_send(aclient: AsyncLinktor, sms_channel: str) -> None:
    sent = await aclient.messages.send(channel=sms_channel, to="+15550200", text="async hello")
    conversations = [c.name async for c in aclient.conversations.list(page_size=1)]
    assert sent.name.split("/messages/")[0] in conversations
    pages = [p async for p in aclient.conversations.list(page_size=1).pages()]
    assert len(pages) == len(conversations)
    assert len(await aclient.conversations.list().to_list(limit=1)) == 1


async def test_both_clients_have_the_same_surface(aclient: AsyncLinktor, client: Linktor) -> None:
    resources = sorted(n for n in vars(client) if not n.startswith("_"))
    assert resources == sorted(n for n in vars(aclient) if not n.startswith("_"))
    assert len(resources) == 12
    rpcs = 0
    for name in resources:
        sync_group, async_group = getattr(client, name), getattr(aclient, name)
        methods = sorted(m for m in dir(sync_group) if not m.startswith("_"))
        assert methods == sorted(m for m in dir(async_group) if not m.startswith("_"))
        for method in methods:
            rpcs += 1
            sync_params = inspect.signature(getattr(sync_group, method)).parameters
            async_params = inspect.signature(getattr(async_group, method)).parameters
            assert list(sync_params) == list(async_params), f"{name}.{method}"
    assert rpcs == 70  # every RPC of linktor.v1
