"""The Destinations port over the network policy (linktor.adapterkit.netguard): where an
endpoint URL may point, checked when the URL is set."""

from __future__ import annotations

from urllib.parse import urlsplit

from linktor.adapterkit.netguard import AddressPolicy, BlockedDestination, UnresolvableHost


class NetworkDestinations:
    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy

    async def problem(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            await self._policy.destinations(host, port)
        except BlockedDestination as exc:
            return (
                f"must point to a public address: {exc} (operators can allow hosts with"
                " LINKTOR_WEBHOOK_ALLOW_HOSTS)"
            )
        except UnresolvableHost as exc:
            return f"the host does not resolve: {exc}"
        return None
