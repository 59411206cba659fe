"""Channel domain rules: origins, adapter addresses, states, template reconciliation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from linktor.server.channels.domain import rules
from linktor.server.channels.domain.channel import Channel, ChannelState, RateLimit
from linktor.server.channels.domain.template import (
    ComponentKind,
    MessageTemplate,
    TemplateComponent,
    reconcile,
)
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import FieldViolation

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("https://Shop.Example.COM/", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("https://shop.example.com:8443", "https://shop.example.com:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("http://shop.example.com", None),  # http only for local development
        ("https://shop.example.com/path", None),
        ("https://shop.example.com?x=1", None),
        ("https://user:pw@shop.example.com", None),
        ("https://*.example.com", None),
        ("https://shop.example.com:99999", None),
        ("javascript:alert(1)", None),
        ("shop.example.com", None),
        ("", None),
    ],
)
def test_origins(given: str, canonical: str | None) -> None:
    assert rules.origin(given) == canonical


def test_origins_are_deduplicated_and_violations_named() -> None:
    violations: list[FieldViolation] = []
    kept = rules.allowed_origins(
        ["https://a.example.com", "https://A.example.com/", "nope"], violations
    )
    assert kept == ("https://a.example.com",)
    assert [v.field for v in violations] == ["allowed_origins[2]"]


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("", True),
        ("adapters.internal:7000", True),
        ("tls://adapters.example.com:443", True),
        ("[::1]:7000", True),
        ("unix:/run/linktor/sms.sock", True),
        ("unix:relative.sock", False),
        ("adapters.internal", False),
        ("adapters.internal:0", False),
        ("http://adapters.internal:80", False),
        ("a:b:c", False),
    ],
)
def test_adapter_addresses(address: str, ok: bool) -> None:
    violations: list[FieldViolation] = []
    rules.adapter_address(address, violations)
    assert (not violations) is ok


def test_rate_limits() -> None:
    assert RateLimit().or_default(RateLimit(80)) == RateLimit(80)
    assert RateLimit(10, 3).or_default(RateLimit(80)) == RateLimit(10, 3)
    assert RateLimit(2.5).effective_burst == 3 and RateLimit(0).effective_burst == 1
    violations: list[FieldViolation] = []
    rules.rate_limit(float("nan"), -1, violations)
    assert [v.field for v in violations] == ["rate_limit.per_second", "rate_limit.burst"]


def channel(state: ChannelState) -> Channel:
    return Channel(
        id="c1",
        tenant_id="t1",
        type=ChannelType.WHATSAPP,
        display_name="x",
        state=state,
        config={},
        webhook_token="tok",
        create_time=NOW,
        update_time=NOW,
    )


def test_state_transitions() -> None:
    active, disabled = channel(ChannelState.ACTIVE), channel(ChannelState.DISABLED)
    degraded = active.adapter_unavailable("restarting", NOW)
    assert (degraded.state, degraded.state_reason) == (ChannelState.DEGRADED, "restarting")
    assert degraded.adapter_available(NOW).state is ChannelState.ACTIVE
    assert disabled.adapter_unavailable("x", NOW) is disabled
    assert disabled.provider_rejected("x", NOW) is disabled
    failing = active.provider_rejected("token expired", NOW)
    assert failing.state is ChannelState.ERROR
    assert failing.adapter_unavailable("x", NOW) is failing  # its reason says more
    assert failing.provider_accepted(NOW).state is ChannelState.ACTIVE
    assert failing.disable(NOW).enable(NOW).state is ChannelState.ACTIVE
    assert active.enable(NOW) is active
    assert active.delete(NOW).deleted and active.delete(NOW).delete(NOW).delete_time == NOW
    assert "tok" not in repr(active)


def tpl(name: str, status: str = "APPROVED", tid: str = "") -> MessageTemplate:
    return MessageTemplate(
        id=tid or f"id-{name}-{status}",
        tenant_id="t1",
        channel_id="c1",
        template_name=name,
        language="en",
        category="UTILITY",
        status=status,
        provider_template_id=name,
        components=(TemplateComponent(ComponentKind.BODY, parameter_count=1),),
        sync_time=NOW,
    )


def test_reconcile() -> None:
    stored = [tpl("a", tid="A"), tpl("b", tid="B"), tpl("c", tid="C")]
    fetched = [tpl("a"), tpl("b", "PAUSED"), tpl("d"), tpl("d", "REJECTED")]
    changes = reconcile(stored, fetched)
    assert [t.template_name for t in changes.added] == ["d"]
    assert [(t.id, t.status) for t in changes.changed] == [("B", "PAUSED")]
    assert [t.id for t in changes.removed] == ["C"]
    assert changes.count == 3
    assert reconcile(stored, [replace(t, id="other") for t in stored]).count == 0
    button = tpl("a").component(ComponentKind.BUTTON)
    assert button is None and tpl("a").component(ComponentKind.BODY, 1) is None
