"""Use cases of a tenant's channels: create (validated by the adapter, within the plan),
get, list, update, delete, enable, disable, test.

Adapter calls happen outside database transactions (they may take seconds); the write that
follows is conditional on the version read before, so a concurrent change is reported
(ABORTED) instead of overwritten.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from linktor.adapter.v1 import adapter_pb2
from linktor.server.channels.app.adapter_calls import adapter_config, check_channel, validate_config
from linktor.server.channels.app.capabilities import AdapterCapabilities
from linktor.server.channels.app.channel_secrets import ChannelSecrets
from linktor.server.channels.app.inputs import ChannelCheck, ChannelDraft, ChannelPatch
from linktor.server.channels.app.ports import ChannelStore, ChannelUnitOfWork
from linktor.server.channels.app.webhook_urls import WebhookUrls
from linktor.server.channels.domain import rules
from linktor.server.channels.domain.channel import (
    Channel,
    ChannelState,
    RateLimit,
    new_webhook_token,
)
from linktor.server.identity.app.plans import PlanLimits
from linktor.server.identity.domain.plan import Limit
from linktor.server.logs import get_logger
from linktor.server.shared import names
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from linktor.server.shared.idempotency import (
    ConcurrentRequest,
    IdempotencyRecord,
    first_result,
)
from linktor.server.shared.ids import new_id
from linktor.server.shared.pagination import PageToken, fingerprint, page_size
from linktor.server.shared.principal import Principal

log = get_logger(__name__)

IDEMPOTENCY_SCOPE = "CreateChannel"
MAX_REQUEST_ID = 128


def raise_violations(violations: list[FieldViolation], prefix: str = "channel.") -> None:
    """InvalidArgument naming every violation (paths under ``prefix``), if there are any."""
    if violations:
        named = [FieldViolation(prefix + v.field, v.description) for v in violations]
        summary = "; ".join(f"{v.field}: {v.description}" for v in named[:5])
        raise InvalidArgument(summary, named)


def check_etag(etag: str, channel: Channel) -> None:
    if etag and etag != channel.etag:
        raise Aborted(
            f"{channel.name} has changed since it was read (etag {etag} != {channel.etag})"
        )


def check_rate_limit(
    rate: RateLimit, capabilities: adapter_pb2.GetCapabilitiesResponse | None
) -> None:
    """The provider's ceiling, when the adapter declares one."""
    ceiling = capabilities.capabilities.max_rate_limit.per_second if capabilities else 0
    if ceiling > 0 and rate.per_second > ceiling:
        raise InvalidArgument.for_field(
            "channel.rate_limit.per_second",
            f"this channel type allows at most {ceiling:g} per second",
        )


def patched_config(current: Mapping[str, Any], patch: ChannelPatch) -> dict[str, Any]:
    config = dict(current if patch.config is None else patch.config)
    config.update(patch.config_entries)
    for key in patch.config_removals:
        config.pop(key, None)
    return config


class ChannelAdmin:
    def __init__(
        self,
        store: ChannelStore,
        adapters: AdapterCapabilities,
        secrets: ChannelSecrets,
        plans: PlanLimits,
        clock: Clock,
        webhook_urls: WebhookUrls,
        on_change: Callable[[Channel], None] = lambda _channel: None,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._secrets = secrets
        self._plans = plans
        self._clock = clock
        self._urls = webhook_urls
        # Told about every stored change (the ChannelDirectory drops its cached copy).
        self._on_change = on_change

    # ------------------------------------------------------------------ create

    async def create(
        self,
        principal: Principal,
        tenant_id: str,
        draft: ChannelDraft,
        *,
        request_id: str = "",
        request_hash: str = "",
        validate_only: bool = False,
    ) -> Channel:
        """The new channel (with ``validate_only``: the channel that would be created, not
        stored). A ``request_id`` seen before returns the channel its first call created."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        if len(request_id) > MAX_REQUEST_ID:
            raise InvalidArgument.for_field("request_id", f"at most {MAX_REQUEST_ID} characters")
        use_key = bool(request_id) and not validate_only
        if use_key:
            async with self._store.scoped(tenant_id) as uow:
                earlier = await self._replay(uow, tenant_id, request_id, request_hash)
            if earlier is not None:
                return earlier
        channel, secrets = self._new_channel(tenant_id, draft)
        handle = await self._adapters.handle(channel.type, channel.adapter_address)
        check_rate_limit(channel.rate_limit, handle.capabilities)
        normalized = await validate_config(
            handle, adapter_config(channel, secrets=secrets, webhook_url=self._urls.of(channel))
        )
        if normalized is not None:
            channel = replace(channel, config=normalized)
        # Read before the transaction: on SQLite a second transaction would wait for ours.
        plan = await self._plans.plan_of(tenant_id)
        if validate_only:
            async with self._store.scoped(tenant_id) as uow:
                plan.check(Limit.CHANNELS, await uow.channels.count(tenant_id))
            return channel
        channel = replace(channel, sealed_secrets=self._secrets.seal(channel.name, secrets))
        try:
            async with self._store.scoped(tenant_id) as uow:
                await uow.channels.lock_tenant(tenant_id)
                if use_key:
                    earlier = await self._replay(uow, tenant_id, request_id, request_hash)
                    if earlier is not None:
                        return earlier
                plan.check(Limit.CHANNELS, await uow.channels.count(tenant_id))
                await uow.channels.add(channel)
                if use_key:
                    record = IdempotencyRecord(request_hash, channel.name)
                    await uow.idempotency.put(
                        tenant_id, IDEMPOTENCY_SCOPE, request_id, record, self._clock.now()
                    )
                await uow.commit()
        except ConcurrentRequest:
            async with self._store.scoped(tenant_id) as uow:
                earlier = await self._replay(uow, tenant_id, request_id, request_hash)
            if earlier is None:
                raise
            return earlier
        log.info("channel created", channel=channel.name, type=channel.type.value)
        self._on_change(channel)
        return channel

    def _new_channel(self, tenant_id: str, draft: ChannelDraft) -> tuple[Channel, dict[str, str]]:
        violations: list[FieldViolation] = []
        if draft.type is None:
            violations.append(FieldViolation("type", "is required"))
        display_name = rules.display_name(draft.display_name, violations)
        config = rules.config(draft.config, violations)
        rules.secrets(draft.secrets, violations)
        rules.rate_limit(draft.rate_limit.per_second, draft.rate_limit.burst, violations)
        address = rules.adapter_address(draft.adapter_address, violations)
        origins = rules.allowed_origins(draft.allowed_origins, violations)
        raise_violations(violations)
        assert draft.type is not None
        secrets = {key: value for key, value in draft.secrets.items() if value}
        now = self._clock.now()
        channel = Channel(
            id=new_id(),
            tenant_id=tenant_id,
            type=draft.type,
            display_name=display_name,
            state=ChannelState.ACTIVE,
            config=config,
            webhook_token=new_webhook_token(),
            create_time=now,
            update_time=now,
            secret_keys=frozenset(secrets),
            rate_limit=draft.rate_limit,
            adapter_address=address,
            allowed_origins=origins,
        )
        return channel, secrets

    async def _replay(
        self, uow: ChannelUnitOfWork, tenant_id: str, request_id: str, request_hash: str
    ) -> Channel | None:
        name = await first_result(
            uow.idempotency,
            tenant_id,
            IDEMPOTENCY_SCOPE,
            request_id,
            request_hash,
            self._clock.now(),
        )
        if name is None:
            return None
        # The first result, even if the channel was deleted since.
        earlier = await uow.channels.get(
            tenant_id, names.CHANNEL.parse(name)["channel"], include_deleted=True
        )
        if earlier is None:
            raise NotFound(f"{name} not found")
        return earlier

    # ------------------------------------------------------------------ read

    async def _load(self, uow: ChannelUnitOfWork, tenant_id: str, channel_id: str) -> Channel:
        channel = await uow.channels.get(tenant_id, channel_id)
        if channel is None:
            raise NotFound(f"tenants/{tenant_id}/channels/{channel_id} not found")
        return channel

    async def get(self, principal: Principal, tenant_id: str, channel_id: str) -> Channel:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/channels/{channel_id}")
        async with self._store.scoped(tenant_id) as uow:
            return await self._load(uow, tenant_id, channel_id)

    async def list(
        self,
        principal: Principal,
        tenant_id: str,
        *,
        size: int,
        token: str,
        channel_type: ChannelType | None = None,
    ) -> tuple[list[Channel], str]:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        limit = page_size(size)
        filters = {"tenant": tenant_id, "type": channel_type.value if channel_type else ""}
        position = PageToken.decode(token, filters)
        async with self._store.scoped(tenant_id) as uow:
            found = await uow.channels.list(
                tenant_id,
                limit=limit + 1,
                after_id=str(position.last[0]) if position else None,
                type=channel_type,
            )
        next_token = ""
        if len(found) > limit:
            found = found[:limit]
            next_token = PageToken([found[-1].id], fingerprint(filters)).encode()
        return found, next_token

    def webhook_url(self, channel: Channel) -> str:
        return self._urls.of(channel)

    async def capabilities(self, channel: Channel) -> adapter_pb2.GetCapabilitiesResponse | None:
        """The channel's adapter's declaration, or None when it was never reachable."""
        return await self._adapters.of(channel.type, channel.adapter_address)

    # ------------------------------------------------------------------ change

    async def _save(self, changed: Channel, current: Channel) -> Channel:
        async with self._store.scoped(changed.tenant_id) as uow:
            saved = await uow.channels.update(changed, expected_version=current.version)
            await uow.commit()
        self._on_change(saved)
        return saved

    async def update(
        self, principal: Principal, tenant_id: str, channel_id: str, patch: ChannelPatch
    ) -> Channel:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/channels/{channel_id}")
        async with self._store.scoped(tenant_id) as uow:
            current = await self._load(uow, tenant_id, channel_id)
        check_etag(patch.etag, current)
        changed = self._patched(current, patch)
        if patch.touches_adapter_config:
            changed = await self._revalidated(current, changed, patch)
        elif patch.touches_rate_limit:
            check_rate_limit(
                changed.rate_limit, await self._adapters.of(changed.type, changed.adapter_address)
            )
        changed = self._resealed(changed)
        if replace(changed, update_time=current.update_time) == current:
            return current
        saved = await self._save(changed, current)
        log.info("channel updated", channel=saved.name, secret_keys_changed=sorted(patch.secrets))
        return saved

    def _resealed(self, channel: Channel) -> Channel:
        """Rotation: secrets sealed with an older key move to the current one when the
        channel is next written (left as they are when they cannot be opened)."""
        if not self._secrets.needs_reseal(channel):
            return channel
        try:
            secrets = self._secrets.open(channel)
        except FailedPrecondition:
            return channel
        return replace(channel, sealed_secrets=self._secrets.seal(channel.name, secrets))

    def _patched(self, current: Channel, patch: ChannelPatch) -> Channel:
        violations: list[FieldViolation] = []
        display_name = current.display_name
        if patch.display_name is not None:
            display_name = rules.display_name(patch.display_name, violations)
        config = rules.config(patched_config(current.config, patch), violations)
        rules.secrets(patch.secrets, violations)
        rate = RateLimit(
            current.rate_limit.per_second
            if patch.rate_per_second is None
            else patch.rate_per_second,
            current.rate_limit.burst if patch.rate_burst is None else patch.rate_burst,
        )
        rules.rate_limit(rate.per_second, rate.burst, violations)
        address = current.adapter_address
        if patch.adapter_address is not None:
            address = rules.adapter_address(patch.adapter_address, violations)
        origins = current.allowed_origins
        if patch.allowed_origins is not None:
            origins = rules.allowed_origins(patch.allowed_origins, violations)
        raise_violations(violations)
        return replace(
            current,
            display_name=display_name,
            config=config,
            rate_limit=rate,
            adapter_address=address,
            allowed_origins=origins,
            update_time=self._clock.now(),
        )

    async def _revalidated(
        self, current: Channel, changed: Channel, patch: ChannelPatch
    ) -> Channel:
        """``changed`` after its adapter validated it, with the new secrets sealed."""
        try:
            secrets = self._secrets.open(current)
        except FailedPrecondition:
            if not patch.secrets:
                raise
            secrets = {}  # unreadable: the request sets them again
        for key, value in patch.secrets.items():
            if value:
                secrets[key] = value
            else:
                secrets.pop(key, None)
        handle = await self._adapters.handle(changed.type, changed.adapter_address)
        check_rate_limit(changed.rate_limit, handle.capabilities)
        normalized = await validate_config(
            handle, adapter_config(changed, secrets=secrets, webhook_url=self._urls.of(changed))
        )
        changed = replace(
            changed,
            config=changed.config if normalized is None else normalized,
            secret_keys=frozenset(secrets),
            sealed_secrets=self._secrets.seal(changed.name, secrets),
        )
        # A configuration the adapter accepted deserves a new chance with the provider.
        return changed.provider_accepted(changed.update_time)

    async def delete(
        self, principal: Principal, tenant_id: str, channel_id: str, etag: str = ""
    ) -> None:
        """Mark the channel deleted: it stops taking webhooks and sends; its conversations
        and messages stay readable."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/channels/{channel_id}")
        async with self._store.scoped(tenant_id) as uow:
            current = await self._load(uow, tenant_id, channel_id)
            check_etag(etag, current)
            saved = await uow.channels.update(
                current.delete(self._clock.now()), expected_version=current.version
            )
            await uow.commit()
        log.info("channel deleted", channel=saved.name)
        self._on_change(saved)

    async def _transition(
        self,
        principal: Principal,
        tenant_id: str,
        channel_id: str,
        move: Callable[[Channel], Channel],
    ) -> Channel:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}/channels/{channel_id}")
        async with self._store.scoped(tenant_id) as uow:
            current = await self._load(uow, tenant_id, channel_id)
            changed = move(current)
            if changed == current:
                return current
            saved = await uow.channels.update(changed, expected_version=current.version)
            await uow.commit()
        log.info("channel state changed", channel=saved.name, state=saved.state.value)
        self._on_change(saved)
        return saved

    async def enable(self, principal: Principal, tenant_id: str, channel_id: str) -> Channel:
        now = self._clock.now()
        return await self._transition(principal, tenant_id, channel_id, lambda c: c.enable(now))

    async def disable(self, principal: Principal, tenant_id: str, channel_id: str) -> Channel:
        now = self._clock.now()
        return await self._transition(principal, tenant_id, channel_id, lambda c: c.disable(now))

    async def test(self, principal: Principal, tenant_id: str, channel_id: str) -> ChannelCheck:
        """Ask the adapter to check the channel with the provider. A refusal puts the channel
        in ERROR with the adapter's message; success takes it out of ERROR."""
        channel = await self.get(principal, tenant_id, channel_id)
        handle = await self._adapters.handle(channel.type, channel.adapter_address)
        config = adapter_config(
            channel, secrets=self._secrets.open(channel), webhook_url=self._urls.of(channel)
        )
        reply = await check_channel(handle, config)
        now = self._clock.now()
        reason = reply.message[:500] or "the provider refused the channel's configuration"
        move = (
            (lambda c: c.provider_accepted(now))
            if reply.ok
            else (lambda c: c.provider_rejected(reason, now))
        )
        # Changed or deleted meanwhile: the answer stands, the state is theirs.
        with contextlib.suppress(Aborted, NotFound):
            await self._transition(principal, tenant_id, channel_id, move)
        return ChannelCheck(
            reply.ok,
            reply.message,
            reply.latency.ToTimedelta() if reply.HasField("latency") else timedelta(),
        )
