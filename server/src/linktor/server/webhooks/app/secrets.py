"""Endpoint signing secrets, sealed for storage with the SecretBox.

A sealed secret is bound to its endpoint's resource name (associated data): copied into
another endpoint's row, or another tenant's, it does not open. Secrets never reach logs or
error messages.
"""

from __future__ import annotations

from datetime import datetime

from linktor.server.infra.secrets.port import SecretBox, SecretUnreadable
from linktor.server.logs import get_logger
from linktor.server.shared.errors import FailedPrecondition
from linktor.server.webhooks.domain.endpoint import WebhookEndpoint

log = get_logger(__name__)


class UnreadableSecret(FailedPrecondition):
    """The endpoint's secret does not open with the configured keys."""


class EndpointSecrets:
    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, endpoint_name: str, secret: str) -> bytes:
        return self._box.seal(secret.encode(), endpoint_name.encode())

    def _open(self, sealed: bytes, endpoint_name: str) -> str:
        try:
            return self._box.open(sealed, endpoint_name.encode()).decode()
        except SecretUnreadable as exc:
            log.error("webhook secret unreadable", endpoint=endpoint_name, problem=str(exc))
            raise UnreadableSecret(
                "the endpoint's signing secret cannot be decrypted with the configured"
                " LINKTOR_SECRETS_KEY; restore the key or rotate the secret"
            ) from None

    def current(self, endpoint: WebhookEndpoint) -> str:
        return self._open(endpoint.sealed_secret, endpoint.name)

    def signing(self, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
        """The secrets that sign a request now: the current one, and the previous one
        during a rotation's grace period."""
        found = [self.current(endpoint)]
        if endpoint.previous_secret_signs(now) and endpoint.sealed_previous_secret is not None:
            found.append(self._open(endpoint.sealed_previous_secret, endpoint.name))
        return found
