"""What the channel use cases take in, independent of the transport."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from linktor.server.channels.domain.channel import RateLimit
from linktor.server.shared.channel_types import ChannelType


@dataclass(frozen=True)
class ChannelDraft:
    """A channel to create."""

    display_name: str
    type: ChannelType | None
    config: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    adapter_address: str = ""
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelPatch:
    """Changes to a channel; None leaves a field as it is.

    ``config`` replaces the whole configuration; ``config_entries`` sets single keys and
    ``config_removals`` removes them (update_mask paths ``config.KEY``). ``secrets`` are
    applied key by key: a value sets the key, an empty value deletes it. The two halves of
    the rate limit change independently.
    """

    display_name: str | None = None
    config: Mapping[str, Any] | None = None
    config_entries: Mapping[str, Any] = field(default_factory=dict)
    config_removals: frozenset[str] = frozenset()
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    rate_per_second: float | None = None
    rate_burst: int | None = None
    adapter_address: str | None = None
    allowed_origins: tuple[str, ...] | None = None
    etag: str = ""

    @property
    def touches_adapter_config(self) -> bool:
        """Whether the adapter must validate the result (configuration, secrets, adapter)."""
        return bool(
            self.config is not None
            or self.config_entries
            or self.config_removals
            or self.secrets
            or self.adapter_address is not None
        )

    @property
    def touches_rate_limit(self) -> bool:
        return self.rate_per_second is not None or self.rate_burst is not None


@dataclass(frozen=True)
class ChannelCheck:
    """The adapter's verdict on a channel's credentials and reachability."""

    ok: bool
    message: str
    latency: timedelta
