"""Choosing the bus from configuration: no NATS URL means the embedded in-process bus."""

from __future__ import annotations

from linktor.server.infra.bus.port import EventBus


def create_bus(nats_url: str | None) -> EventBus:
    """The scaled bus when ``nats_url`` is set, else the in-process one (not started yet)."""
    if nats_url:
        # Imported here so embedded mode never loads the NATS client.
        from linktor.server.infra.bus.nats import NatsJetStreamBus

        return NatsJetStreamBus(nats_url)
    from linktor.server.infra.bus.inprocess import InProcessBus

    return InProcessBus()
