"""Connections cut for real (a TCP proxy resets them): a send whose answer was lost is
retried with its request_id and sent once; the event stream reconnects and resumes after
the last sequence, missing and repeating nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sdktest import LiveServer, TenantLogin, eventually, live_server
from sdktest.proxy import cuttable_proxy

from linktor.sdk import AsyncLinktor, Linktor, RetryPolicy, errors

pytestmark = pytest.mark.e2e


def test_a_send_whose_answer_is_lost_is_retried_and_sent_once(
    live: LiveServer, tenant: TenantLogin, sms_channel: str
) -> None:
    with (
        cuttable_proxy(live.address) as proxy,
        Linktor(api_key=tenant.api_key, address=proxy.address) as client,
    ):
        client.tenant()  # connected, tenant known
        proxy.drop_next_answer()  # the server handles the send; its answer never arrives
        sent = client.messages.send(channel=sms_channel, to="+15550400", text="exactly once")
        assert proxy.cuts == 1
    provider = eventually(
        lambda: [s for s in live.provider_sends() if s["message_id"] == sent.name]
    )
    assert len(provider) == 1
    with Linktor(api_key=tenant.api_key, address=live.address) as direct:
        conversation = sent.name.split("/messages/")[0]
        bodies = [m.content.text.body for m in direct.messages.list(conversation)]
    assert bodies.count("exactly once") == 1


def test_without_retries_the_cut_is_a_typed_unavailable(
    live: LiveServer, tenant: TenantLogin, sms_channel: str
) -> None:
    with (
        cuttable_proxy(live.address) as proxy,
        Linktor(
            api_key=tenant.api_key, address=proxy.address, retry=RetryPolicy(max_attempts=1)
        ) as client,
    ):
        client.tenant()
        proxy.drop_next_answer()
        with pytest.raises(errors.Unavailable) as caught:
            client.messages.send(channel=sms_channel, to="+15550401", text="cut")
        assert caught.value.request_id  # retry with it to be safe


async def test_event_stream_resumes_after_a_cut(
    live: LiveServer, tenant: TenantLogin, sms_channel: str
) -> None:
    with cuttable_proxy(live.address) as proxy:
        async with AsyncLinktor(api_key=tenant.api_key, address=live.address) as direct:
            await direct.messages.send(channel=sms_channel, to="+15550402", text="s")
            # Events are numbered asynchronously: wait until the send's event is in the log.
            latest = 0
            for _ in range(300):
                created = [
                    e.sequence
                    async for e in direct.events.list(types=["message.created"])
                    if e.message.content.text.body == "s"
                ]
                if created:
                    latest = created[-1]
                    break
                await asyncio.sleep(0.1)
            assert latest
            async with AsyncLinktor(api_key=tenant.api_key, address=proxy.address) as streaming:
                stream = streaming.events.stream(
                    after_sequence=latest, types=["message.created"], max_backoff=0.5
                )
                bodies: list[str] = []
                sequences: list[int] = []

                async def read(count: int) -> None:
                    async for event in stream:
                        bodies.append(event.message.content.text.body)
                        sequences.append(event.sequence)
                        if len(bodies) == count:
                            return

                for i in range(2):
                    await direct.messages.send(channel=sms_channel, to="+15550402", text=f"m{i}")
                await asyncio.wait_for(read(2), 30)
                # Cut mid-stream and keep the proxy closed while more events happen.
                proxy.refusing = True
                proxy.cut()
                for i in range(2, 5):
                    await direct.messages.send(channel=sms_channel, to="+15550402", text=f"m{i}")
                await asyncio.sleep(0.5)
                proxy.refusing = False
                await asyncio.wait_for(read(5), 30)
                await stream.aclose()
    assert bodies == [f"m{i}" for i in range(5)]
    assert sequences == sorted(set(sequences))
    assert stream.reconnects >= 1
    assert stream.last_sequence == sequences[-1]


def test_resuming_before_the_kept_events_is_a_typed_expiry(tmp_path: Path) -> None:
    # Events are kept one second here, and housekeeping deletes them every second.
    with live_server(
        tmp_path / "data",
        LINKTOR_EVENT_RETENTION_SECONDS="1",
        LINKTOR_HOUSEKEEPING_INTERVAL_SECONDS="1",
    ) as server:
        login = server.create_tenant()
        with Linktor(api_key=login.api_key, address=server.address) as client:
            channel = client.channels.create(
                channel={
                    "display_name": "SMS line",
                    "type": "sms",
                    "secrets": {"webhook_secret": "fake-webhook-secret"},
                }
            )
            channel_id = channel.name.rsplit("/", 1)[1]
            for n in range(3):
                client.messages.send(channel=channel_id, to="+15550410", text=f"old {n}")
            # Every event of the sends (created, then delivered) ends up past retention.
            eventually(
                lambda: server.provider_sends() and not list(client.events.list()), timeout=60
            )
            with pytest.raises(errors.EventSequenceExpired) as caught:
                next(iter(client.events.stream(after_sequence=1)))
            assert caught.value.resume_sequence >= 6  # 3 created + 3 delivered at least
            assert "no longer kept" in str(caught.value)
            # Streaming from the sequence it names works.
            client.messages.send(channel=channel_id, to="+15550410", text="new")
            event = next(
                iter(
                    client.events.stream(
                        after_sequence=caught.value.resume_sequence, types=["message.created"]
                    )
                )
            )
            assert event.message.content.text.body == "new"
