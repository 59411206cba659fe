"""The contacts and conversations services behind the real gRPC server and authentication of
lktest.identity, on the backend under test, with a fake clock; and a stand-in for inbound
messages (what ReceiveInbound stores: contact, conversation, message) to give them data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.api.grpc_server import Registration
from linktor.server.contacts.adapters.sql import SqlContactRepository
from linktor.server.contacts.app.resolve import resolve_contact
from linktor.server.conversations.adapters.sql import SqlConversationRepository
from linktor.server.conversations.domain.conversation import Conversation
from linktor.server.conversations.module import InboxServices, build_inbox
from linktor.server.identity.module import IdentityServices
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.infra.db.uow import SqlUnitOfWork
from linktor.server.infra.outbox.table import outbox
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.clock import FakeClock
from linktor.server.shared.ids import new_id
from linktor.v1 import contact_pb2_grpc, conversation_pb2_grpc, event_pb2, user_pb2
from lktest.identity import (
    PASSWORD,
    IdentityServer,
    Tenant,
    bearer,
    settings_for,
    start_identity_server,
)
from lktest.seed import insert_message, seed_channel

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Inbound:
    """What one stand-in inbound message created or found."""

    contact_id: str
    conversation_id: str
    message_id: str

    def conversation_name(self, tenant_id: str) -> str:
        return f"tenants/{tenant_id}/conversations/{self.conversation_id}"

    def contact_name(self, tenant_id: str) -> str:
        return f"tenants/{tenant_id}/contacts/{self.contact_id}"


class RecordedReceipts:
    """The read-receipt hook, recording what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    async def messages_read(self, conversation: Conversation, message_ids: Sequence[str]) -> None:
        self.calls.append((conversation.id, list(message_ids)))


@dataclass
class InboxServer:
    ids: IdentityServer
    inbox: InboxServices
    clock: FakeClock
    receipts: RecordedReceipts
    engine: AsyncEngine
    contacts: contact_pb2_grpc.ContactServiceAsyncStub
    conversations: conversation_pb2_grpc.ConversationServiceAsyncStub

    async def tenant(self) -> TenantWithChannels:
        tenant = await self.ids.tenant()
        return TenantWithChannels(
            tenant,
            await seed_channel(self.engine, tenant.id, ChannelType.WHATSAPP),
            await seed_channel(self.engine, tenant.id, ChannelType.TELEGRAM),
        )

    async def user(self, tenant: Tenant, role: int) -> tuple[str, tuple[tuple[str, str]]]:
        """A new active user of ``tenant`` with ``role``: (user id, its call metadata)."""
        email = f"{new_id()}@example.com"
        made = await self.ids.stubs.users.CreateUser(
            user_pb2.CreateUserRequest(
                parent=tenant.name,
                user=user_pb2.User(email=email, role=role, password=PASSWORD),  # type: ignore[arg-type]
            ),
            metadata=bearer(tenant.api_key),
        )
        login = await self.ids.login(email, tenant=tenant.name)
        return made.name.rsplit("/", 1)[1], bearer(login.tokens.access_token)

    async def inbound(
        self,
        tenant_id: str,
        channel_id: str,
        address: str,
        text: str,
        at: datetime,
        *,
        name: str = "",
        channel_type: ChannelType = ChannelType.WHATSAPP,
    ) -> Inbound:
        """Store an inbound message as ReceiveInbound does: contact by identity, the
        conversation of (channel, contact), the message with the next seq, activity."""
        async with SqlUnitOfWork(self.engine, tenant_id=tenant_id) as uow:
            contacts = SqlContactRepository(uow.connection)
            conversations = SqlConversationRepository(uow.connection)
            contact = await resolve_contact(
                contacts, tenant_id, channel_type, address, name, channel_id, at
            )
            current = await conversations.find(tenant_id, channel_id, contact.id, for_update=True)
            if current is None:
                current = Conversation.start(
                    new_id(), tenant_id, channel_id, channel_type, contact.id, at
                )
                await conversations.add(current)
            updated, seq = current.record_inbound(text, at, timedelta(hours=24))
            await conversations.update(updated, expected_version=current.version)
            message_id = await insert_message(
                uow.connection,
                tenant_id=tenant_id,
                conversation_id=current.id,
                channel_id=channel_id,
                contact_id=contact.id,
                seq=seq,
                create_time=at,
                body_text=text,
            )
            await uow.commit()
        return Inbound(contact.id, current.id, message_id)

    async def event_types(self, tenant_id: str) -> list[str]:
        """Types of the events recorded in the outbox for ``tenant_id``, in order."""
        async with SqlUnitOfWork(self.engine, privileged=True) as uow:
            rows = await uow.connection.execute(
                select(outbox.c.payload)
                .where(outbox.c.tenant_id == tenant_id)
                .order_by(outbox.c.id)
            )
            return [event_pb2.Event.FromString(row.payload).type for row in rows]


@dataclass(frozen=True)
class TenantWithChannels:
    tenant: Tenant
    whatsapp: str
    telegram: str

    @property
    def id(self) -> str:
        return self.tenant.id

    @property
    def name(self) -> str:
        return self.tenant.name

    @property
    def key(self) -> tuple[tuple[str, str]]:
        """Call metadata with the tenant's API key (every scope)."""
        return bearer(self.tenant.api_key)


@asynccontextmanager
async def start_inbox_server(
    engine: AsyncEngine, data_dir: Path, limiter: RateLimiter
) -> AsyncIterator[InboxServer]:
    clock = FakeClock(START)
    receipts = RecordedReceipts()
    built: list[InboxServices] = []

    def services(identity: IdentityServices) -> list[Registration]:
        built.append(build_inbox(engine, identity.users, clock, receipts=receipts))
        return built[0].registrations()

    async with start_identity_server(
        engine, settings_for(data_dir), limiter, more_services=services
    ) as ids:
        channel: grpc.aio.Channel = ids.channel
        yield InboxServer(
            ids,
            built[0],
            clock,
            receipts,
            engine,
            contact_pb2_grpc.ContactServiceStub(channel),
            conversation_pb2_grpc.ConversationServiceStub(channel),
        )
