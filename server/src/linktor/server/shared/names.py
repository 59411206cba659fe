"""Resource names (AIP-122): ``tenants/{tenant}/conversations/{conversation}`` and friends."""

from __future__ import annotations

import re
from dataclasses import dataclass

from linktor.server.shared.errors import InvalidArgument

_SEGMENT = r"[a-z0-9][a-z0-9-]{0,62}"


@dataclass(frozen=True)
class NamePattern:
    """A resource name pattern such as ``tenants/{tenant}/channels/{channel}``."""

    pattern: str

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>{_SEGMENT})", self.pattern)
        object.__setattr__(self, "_regex", re.compile(f"^{regex}$"))

    @property
    def variables(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.pattern)

    def parse(self, name: str, field: str = "name") -> dict[str, str]:
        """The variables of ``name``; InvalidArgument naming ``field`` when it does not match."""
        match = self._regex.match(name)  # type: ignore[attr-defined]
        if match is None:
            raise InvalidArgument.for_field(
                field, f"{name!r} is not a resource name of the form {self.pattern!r}"
            )
        return dict(match.groupdict())

    def format(self, **values: str) -> str:
        return self.pattern.format(**values)


TENANT = NamePattern("tenants/{tenant}")
USER = NamePattern("tenants/{tenant}/users/{user}")
API_KEY = NamePattern("tenants/{tenant}/apiKeys/{api_key}")
CHANNEL = NamePattern("tenants/{tenant}/channels/{channel}")
CONTACT = NamePattern("tenants/{tenant}/contacts/{contact}")
CONVERSATION = NamePattern("tenants/{tenant}/conversations/{conversation}")
MESSAGE = NamePattern("tenants/{tenant}/conversations/{conversation}/messages/{message}")
ATTACHMENT = NamePattern("tenants/{tenant}/attachments/{attachment}")
WEBHOOK_ENDPOINT = NamePattern("tenants/{tenant}/webhookEndpoints/{webhook_endpoint}")
EVENT = NamePattern("tenants/{tenant}/events/{event}")
