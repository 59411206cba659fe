"""Status reports of several webhooks applied together (ReceiveInbound.many): the same
outcome as one by one, on both backends (PostgreSQL takes one UPDATE per wave)."""

from __future__ import annotations

import pytest
from lktest.messaging import Pipeline, running_pipeline
from messaging.conftest import Seeded
from messaging.test_receive_inbound import receiver, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.adapter.v1 import adapter_pb2
from linktor.server.events.adapters.tables import events
from linktor.server.infra.bus.port import EventBus
from linktor.server.infra.outbox.table import outbox
from linktor.server.messaging.adapters.sql_statuses import waves
from linktor.server.messaging.app.ports import StatusReport
from linktor.server.messaging.app.send import SendCommand
from linktor.server.messaging.domain.message import Message
from linktor.server.messaging.domain.status import MessageStatus
from linktor.server.shared.clock import SystemClock
from linktor.server.shared.principal import Principal, Role
from linktor.v1 import content_pb2, event_pb2, message_pb2

pytestmark = pytest.mark.integration


def test_waves_hold_one_report_per_message_in_order() -> None:
    now = SystemClock().now()

    def report(pid: str) -> StatusReport:
        return StatusReport("c", pid, MessageStatus.DELIVERED, now)

    reports = [report("a"), report("b"), report("a"), report("a"), report("c"), report("b")]
    assert waves(reports) == [[0, 1, 4], [2, 5], [3]]


def failed(provider_id: str) -> adapter_pb2.InboundEvent:
    event = status(provider_id, message_pb2.MESSAGE_STATUS_FAILED)
    event.status.error.code = "UNDELIVERABLE"
    event.status.error.message = "the phone is off"
    return event


async def _sent(p: Pipeline, seeded: Seeded, count: int) -> list[Message]:
    channel = p.channels.add(seeded.tenant_id, seeded.channel_id)
    principal = Principal(tenant_id=seeded.tenant_id, user_id="u", role=Role.AGENT)
    ids = []
    for n in range(count):
        made = await p.send(
            principal,
            SendCommand(
                tenant_id=seeded.tenant_id,
                content=content_pb2.MessageContent(text=content_pb2.TextContent(body=f"m{n}")),
                channel_id=channel.id,
                address="+15550301",
            ),
        )
        ids.append(made.id)

    async def all_sent() -> list[Message] | None:
        async with p.uow(seeded.tenant_id) as uow:
            found = [await uow.messages.get(seeded.tenant_id, i) for i in ids]
        done = [m for m in found if m is not None and m.status is MessageStatus.SENT]
        return done if len(done) == count else None

    await p.wait_for(all_sent)
    return await all_sent() or []


async def test_reports_of_several_webhooks_apply_as_if_one_by_one(
    engine: AsyncEngine, bus: EventBus, seeded: Seeded
) -> None:
    async with running_pipeline(engine, bus) as p:
        a, b = await _sent(p, seeded, 2)
        assert a.provider_message_id and b.provider_message_id
        channel = p.channels.add(seeded.tenant_id, seeded.channel_id)
        p.relay.wake()
        await p.wait_for(lambda: _outbox_empty(p))
        results = await receiver(p).many(
            [
                # a: delivered then read in one group: both stamps, two events.
                (channel, [status(a.provider_message_id, message_pb2.MESSAGE_STATUS_DELIVERED)]),
                (
                    channel,
                    [
                        status(a.provider_message_id, message_pb2.MESSAGE_STATUS_READ),
                        failed(b.provider_message_id),
                        status("not-yet-known", message_pb2.MESSAGE_STATUS_DELIVERED),
                    ],
                ),
                # A late SENT for a moves nothing; b delivered after its failure report.
                (
                    channel,
                    [
                        status(a.provider_message_id, message_pb2.MESSAGE_STATUS_SENT),
                        status(b.provider_message_id, message_pb2.MESSAGE_STATUS_DELIVERED),
                    ],
                ),
            ]
        )
        assert [r.statuses_applied for r in results] == [1, 2, 1]
        assert [len(r.unmatched) for r in results] == [0, 1, 0]
        assert results[1].unmatched[0].status.provider_message_id == "not-yet-known"
        async with p.uow(seeded.tenant_id) as uow:
            a_now = await uow.messages.get(seeded.tenant_id, a.id)
            b_now = await uow.messages.get(seeded.tenant_id, b.id)
        assert a_now is not None and b_now is not None
        assert a_now.status is MessageStatus.READ
        assert a_now.deliver_time is not None and a_now.read_time is not None
        assert b_now.status is MessageStatus.DELIVERED
        assert b_now.error is not None and b_now.error.code == "UNDELIVERABLE"
        assert b_now.fail_time is not None and b_now.deliver_time is not None
        # One message.updated per applied report (after the two SENT of the delivery).
        p.relay.wake()
        await p.wait_for(lambda: _outbox_empty(p))
        async with p.uow(seeded.tenant_id) as uow:
            updated = await uow.connection.execute(
                select(events.c.payload)
                .where(events.c.tenant_id == seeded.tenant_id, events.c.type == "message.updated")
                .order_by(events.c.sequence)
            )
            statuses = [event_pb2.Event.FromString(row[0]).message.status for row in updated]
        assert statuses[2:] == [
            message_pb2.MESSAGE_STATUS_DELIVERED,
            message_pb2.MESSAGE_STATUS_READ,
            message_pb2.MESSAGE_STATUS_FAILED,
            message_pb2.MESSAGE_STATUS_DELIVERED,
        ]


async def _outbox_empty(p: Pipeline) -> bool:
    async with p.uow() as uow:
        return not (await uow.connection.execute(select(outbox.c.id).limit(1))).first()
