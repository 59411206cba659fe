"""A channel's secrets map, sealed for storage with the SecretBox.

The sealed value is bound to the channel's resource name (associated data): copied into
another channel's row, or another tenant's, it does not open. Values never reach logs or
error messages; only key names do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from linktor.server.channels.domain.channel import Channel
from linktor.server.infra.secrets.port import SecretBox, SecretUnreadable
from linktor.server.logs import get_logger
from linktor.server.shared.errors import FailedPrecondition

log = get_logger(__name__)


class ChannelSecrets:
    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, channel_name: str, secrets: Mapping[str, str]) -> bytes | None:
        """None when there are no secrets (nothing is stored)."""
        if not secrets:
            return None
        plain = json.dumps(dict(sorted(secrets.items())), separators=(",", ":")).encode()
        return self._box.seal(plain, channel_name.encode())

    def open(self, channel: Channel) -> dict[str, str]:
        """The channel's secrets in clear, for one adapter call; FailedPrecondition when
        they cannot be decrypted with the configured keys."""
        if channel.sealed_secrets is None:
            return {}
        try:
            plain = self._box.open(channel.sealed_secrets, channel.name.encode())
        except SecretUnreadable as exc:
            log.error("channel secrets unreadable", channel=channel.name, problem=str(exc))
            raise FailedPrecondition(
                f"the secrets of {channel.name} cannot be decrypted with the configured"
                " LINKTOR_SECRETS_KEY; restore the key, or set the secrets again",
                reason="CHANNEL_UNAVAILABLE",
            ) from None
        values = json.loads(plain)
        return {str(k): str(v) for k, v in values.items()}

    def needs_reseal(self, channel: Channel) -> bool:
        """Whether the secrets were sealed with a key other than the current one."""
        return channel.sealed_secrets is not None and self._box.needs_reseal(channel.sealed_secrets)
