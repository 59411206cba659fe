"""Fixtures: one live `linktor serve` for the session (SDK and CLI tests), a tenant with an
SMS channel served by the fake adapter process, and clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sdktest import LiveServer, TenantLogin, live_server

from linktor.sdk import AsyncLinktor, Linktor


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sdk") / "data") as server:
        yield server


@pytest.fixture(scope="session")
def tenant(live: LiveServer) -> TenantLogin:
    return live.create_tenant()


@pytest.fixture(scope="session")
def client(live: LiveServer, tenant: TenantLogin) -> Iterator[Linktor]:
    with Linktor(api_key=tenant.api_key, address=live.address) as made:
        yield made


@pytest.fixture(scope="session")
def sms_channel(client: Linktor) -> str:
    """The id of an SMS channel of the tenant (served by the fake adapter)."""
    channel = client.channels.create(
        channel={
            "display_name": "SMS line",
            "type": "sms",
            "secrets": {"webhook_secret": "fake-webhook-secret"},
        }
    )
    return channel.name.rsplit("/", 1)[1]


@pytest_asyncio.fixture
async def aclient(live: LiveServer, tenant: TenantLogin) -> AsyncIterator[AsyncLinktor]:
    async with AsyncLinktor(api_key=tenant.api_key, address=live.address) as made:
        yield made
