"""The conversations and contacts contexts wired from their adapters: use cases, the snooze
worker and the gRPC servicers. Built once by the composition root (bootstrap.Container)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

import linktor.server.events.app.serializers  # noqa: F401 - registers event serializers
from linktor.server.contacts.adapters.sql_uow import SqlContactsStore
from linktor.server.contacts.api.servicer import ContactServicer
from linktor.server.contacts.app.contacts import ContactAdmin
from linktor.server.contacts.app.merge import ContactMerger
from linktor.server.conversations.adapters.identity_members import IdentityMembers
from linktor.server.conversations.adapters.sql_uow import SqlConversationsStore
from linktor.server.conversations.api import events as conversation_events
from linktor.server.conversations.api.servicer import ConversationServicer
from linktor.server.conversations.app.conversations import ConversationAdmin
from linktor.server.conversations.app.ports import (
    NoReadReceipts,
    ReadReceipts,
    TypingIndicators,
)
from linktor.server.conversations.app.snooze_waker import SnoozeWaker
from linktor.server.events.app.recorder import OutboxEventRecorder
from linktor.server.identity.app.users import UserAdmin
from linktor.server.infra.outbox.writer import OutboxWriter
from linktor.server.shared.background import Background, Loop
from linktor.server.shared.clock import Clock
from linktor.server.shared.domain_events import EventRecorder
from linktor.v1 import contact_pb2_grpc, conversation_pb2_grpc


@dataclass
class InboxServices:
    contacts: ContactAdmin
    merger: ContactMerger
    conversations: ConversationAdmin
    snooze_waker: SnoozeWaker

    def registrations(self) -> list[tuple[Callable[[Any, grpc.aio.Server], None], object]]:
        return [
            (
                contact_pb2_grpc.add_ContactServiceServicer_to_server,
                ContactServicer(self.contacts, self.merger),
            ),
            (
                conversation_pb2_grpc.add_ConversationServiceServicer_to_server,
                ConversationServicer(self.conversations),
            ),
        ]

    def background(self) -> list[Background]:
        return [Loop("snooze-waker", self.snooze_waker.run)]


def build_inbox(
    engine: AsyncEngine,
    users: UserAdmin,
    clock: Clock,
    *,
    receipts: ReadReceipts | None = None,
    typing: TypingIndicators | None = None,
) -> InboxServices:
    """``receipts`` and ``typing``: messaging's hooks towards the contact's channel (none:
    nothing is sent)."""
    conversation_events.register()

    def recorder(outbox: OutboxWriter) -> EventRecorder:
        return OutboxEventRecorder(outbox, clock)

    contacts = SqlContactsStore(engine, recorder)
    conversations = SqlConversationsStore(engine, recorder)
    return InboxServices(
        contacts=ContactAdmin(contacts, clock),
        merger=ContactMerger(contacts, clock),
        conversations=ConversationAdmin(
            conversations,
            IdentityMembers(users),
            receipts or NoReadReceipts(),
            clock,
            typing=typing,
        ),
        snooze_waker=SnoozeWaker(conversations, clock),
    )
