"""A channel: one connection of a tenant to a messaging provider (a WhatsApp number, a web
chat widget ...), served by the adapter plugin of its type.

The entity holds what the platform knows about the channel; its secrets are kept sealed (an
opaque ciphertext the domain never opens) next to the names of the keys that are set.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from linktor.server.shared.channel_types import ChannelType


class ChannelState(StrEnum):
    # Working.
    ACTIVE = "ACTIVE"
    # Turned off by a user: webhooks are refused, outbound messages wait.
    DISABLED = "DISABLED"
    # The adapter is restarting or unreachable: messages wait.
    DEGRADED = "DEGRADED"
    # The provider rejected the configuration (for example an expired token).
    ERROR = "ERROR"


@dataclass(frozen=True)
class RateLimit:
    """Outbound rate: ``per_second`` sustained, ``burst`` at once. 0 per second means "the
    adapter's default"; 0 burst means "per_second, rounded up, at least 1"."""

    per_second: float = 0.0
    burst: int = 0

    @property
    def is_default(self) -> bool:
        return self.per_second <= 0

    @property
    def effective_burst(self) -> int:
        return self.burst if self.burst > 0 else max(1, math.ceil(self.per_second))

    def or_default(self, default: RateLimit) -> RateLimit:
        """This limit, or ``default`` when this one is unset."""
        return default if self.is_default else self


def new_webhook_token() -> str:
    """The unguessable part of a channel's webhook URL (256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Channel:
    id: str
    tenant_id: str
    type: ChannelType
    display_name: str
    state: ChannelState
    config: Mapping[str, Any]
    webhook_token: str = field(repr=False)
    create_time: datetime
    update_time: datetime
    state_reason: str = ""
    secret_keys: frozenset[str] = frozenset()
    # The secrets map, sealed by the SecretBox; None when no secret is set.
    sealed_secrets: bytes | None = field(default=None, repr=False)
    rate_limit: RateLimit = RateLimit()
    adapter_address: str = ""
    allowed_origins: tuple[str, ...] = ()
    delete_time: datetime | None = None
    version: int = 1

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/channels/{self.id}"

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @property
    def deleted(self) -> bool:
        return self.delete_time is not None

    @property
    def webhook_path(self) -> str:
        """The path of the channel's public webhook URL."""
        return f"/webhooks/{self.webhook_token}"

    def _moved(self, state: ChannelState, reason: str, now: datetime) -> Channel:
        if state is self.state and reason == self.state_reason:
            return self
        return replace(self, state=state, state_reason=reason, update_time=now)

    def enable(self, now: datetime) -> Channel:
        """DISABLED -> ACTIVE; any other state stays (health decides about those)."""
        if self.state is not ChannelState.DISABLED:
            return self
        return self._moved(ChannelState.ACTIVE, "", now)

    def disable(self, now: datetime) -> Channel:
        return self._moved(ChannelState.DISABLED, "", now)

    def adapter_unavailable(self, reason: str, now: datetime) -> Channel:
        """The adapter crashed or cannot be reached: ACTIVE -> DEGRADED (a disabled or
        failing channel keeps its state; its reason says more than this one)."""
        if self.state is ChannelState.ACTIVE or self.state is ChannelState.DEGRADED:
            return self._moved(ChannelState.DEGRADED, reason, now)
        return self

    def adapter_available(self, now: datetime) -> Channel:
        """The adapter is back: DEGRADED -> ACTIVE."""
        if self.state is not ChannelState.DEGRADED:
            return self
        return self._moved(ChannelState.ACTIVE, "", now)

    def provider_rejected(self, reason: str, now: datetime) -> Channel:
        """The provider refused the channel's credentials or configuration -> ERROR (a
        disabled channel stays disabled)."""
        if self.state is ChannelState.DISABLED:
            return self
        return self._moved(ChannelState.ERROR, reason, now)

    def provider_accepted(self, now: datetime) -> Channel:
        """The provider accepted the configuration again: ERROR -> ACTIVE."""
        if self.state is not ChannelState.ERROR:
            return self
        return self._moved(ChannelState.ACTIVE, "", now)

    def delete(self, now: datetime) -> Channel:
        if self.deleted:
            return self
        return replace(self, delete_time=now, update_time=now)
