"""Channels' public webhook URLs: ``{LINKTOR_PUBLIC_URL}/webhooks/{token}``."""

from __future__ import annotations

from linktor.server.channels.domain.channel import Channel


class WebhookUrls:
    def __init__(self, public_url: str) -> None:
        self._base = public_url.rstrip("/")

    def of(self, channel: Channel) -> str:
        return self._base + channel.webhook_path
