"""Identity domain rules: scopes, API key rotation and matching, plans, memberships,
credential formats, the TTL cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linktor.server.identity.adapters.secrets import Sha256Credentials
from linktor.server.identity.app.ttl_cache import TtlCache
from linktor.server.identity.domain.api_key import (
    ApiKey,
    ApiKeyState,
    covers,
    has_scope,
    validate_scopes,
)
from linktor.server.identity.domain.plan import Limit, Plan
from linktor.server.identity.domain.user import Membership, UserState, normalize_email
from linktor.server.shared.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from linktor.server.shared.principal import Role

pytestmark = pytest.mark.unit

NOW = datetime(2026, 5, 1, tzinfo=UTC)
CREDENTIALS = Sha256Credentials()


def a_key(**changes: object) -> ApiKey:
    prefix, secret = CREDENTIALS.new_api_key()
    key = ApiKey(
        "k1",
        "acme",
        "",
        prefix,
        CREDENTIALS.hash(secret),
        frozenset({"*"}),
        ApiKeyState.ACTIVE,
        NOW,
    )
    return key.__class__(**{**key.__dict__, **changes})


def test_scopes_are_validated_and_matched() -> None:
    assert validate_scopes(["messages:send", "channels:*", "*"]) == {
        "messages:send",
        "channels:*",
        "*",
    }
    for bad in (["messages:delete"], ["nope:read"], ["messages"], []):
        with pytest.raises(InvalidArgument):
            validate_scopes(bad)
    assert has_scope(frozenset({"channels:write"}), "channels:read")
    assert not has_scope(frozenset({"channels:read"}), "channels:write")
    assert not has_scope(frozenset({"messages:send"}), "messages:read")
    assert covers(frozenset({"channels:write"}), frozenset({"channels:read", "channels:write"}))
    assert not covers(frozenset({"channels:write"}), frozenset({"*"}))
    assert not covers(frozenset({"messages:send"}), frozenset({"messages:*"}))


def test_key_rotation_grace_and_revocation() -> None:
    key = a_key()
    old_hash = key.secret_hash
    rotated = key.rotate("new-hash", timedelta(minutes=5), NOW)
    assert rotated.secret_matches("new-hash", NOW)
    assert rotated.secret_matches(old_hash, NOW + timedelta(minutes=4))
    assert not rotated.secret_matches(old_hash, NOW + timedelta(minutes=5))
    assert not key.rotate("new-hash", timedelta(0), NOW).secret_matches(old_hash, NOW)
    with pytest.raises(InvalidArgument):
        key.rotate("h", timedelta(days=8), NOW)
    revoked = rotated.revoke(NOW)
    assert revoked.state_at(NOW) is ApiKeyState.REVOKED and revoked.previous_secret_hash is None
    with pytest.raises(FailedPrecondition):
        revoked.rotate("h", timedelta(0), NOW)
    assert a_key(expire_time=NOW).state_at(NOW) is ApiKeyState.EXPIRED


def test_credential_formats() -> None:
    prefix, secret = CREDENTIALS.new_api_key()
    assert prefix.startswith("lk_") and len(prefix) == 15
    assert CREDENTIALS.api_key_prefix(secret) == prefix
    assert CREDENTIALS.api_key_prefix(CREDENTIALS.new_secret_for(prefix)) == prefix
    assert CREDENTIALS.operator_key_prefix(secret) is None
    for junk in ("lk_", "lk_short_x", "lk_UPPERCASE123_" + "x" * 43, "xx_aaaaaaaaaaaa_" + "x" * 43):
        assert CREDENTIALS.api_key_prefix(junk) is None
    op_prefix, op_secret = CREDENTIALS.new_operator_key()
    assert CREDENTIALS.operator_key_prefix(op_secret) == op_prefix
    assert len(CREDENTIALS.hash(secret)) == 64


def test_plan_limits_and_features() -> None:
    plan = Plan("free", "Free", {Limit.CHANNELS: 2, Limit.AGENTS: 0}, {"webhooks": True})
    plan.check(Limit.CHANNELS, 1)
    plan.check(Limit.AGENTS, 10_000)  # 0 = unlimited
    with pytest.raises(FailedPrecondition) as info:
        plan.check(Limit.CHANNELS, 2)
    assert info.value.reason == "PLAN_LIMIT_EXCEEDED"
    assert info.value.metadata == {"limit": "channels", "plan": "free", "maximum": "2"}
    plan.require_feature("webhooks")
    with pytest.raises(FailedPrecondition) as feature:
        plan.require_feature("sso")
    assert feature.value.reason == "FEATURE_NOT_IN_PLAN"


def test_membership_rules() -> None:
    owner = Membership("acme", "u1", "a@b.example", "", Role.OWNER, UserState.ACTIVE, NOW, NOW)
    with pytest.raises(PermissionDenied):
        owner.change_role(Role.ADMIN, actor_role=Role.ADMIN, now=NOW)
    with pytest.raises(PermissionDenied):
        owner.deactivate(actor_role=Role.ADMIN, now=NOW)
    assert owner.change_role(Role.ADMIN, actor_role=Role.OWNER, now=NOW).role is Role.ADMIN
    gone = owner.deactivate(actor_role=None, now=NOW)
    assert gone.reactivate(has_password=False, now=NOW).state is UserState.INVITED
    assert normalize_email("  Ana@Example.COM ") == "ana@example.com"
    with pytest.raises(InvalidArgument):
        normalize_email("ana@localhost")


def test_ttl_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(5.0, max_entries=2, clock=lambda: now[0])
    cache.put("a", 1)
    assert cache.get("a") == (True, 1)
    now[0] = 5.0
    assert cache.get("a") == (False, None)
    for k in "bcd":
        cache.put(k, 1)
    assert cache.get("b") == (False, None) and cache.get("d") == (True, 1)
