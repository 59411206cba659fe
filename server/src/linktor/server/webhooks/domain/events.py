"""Domain events of the webhooks context."""

from __future__ import annotations

from dataclasses import dataclass

from linktor.server.webhooks.domain.endpoint import WebhookEndpoint

ENDPOINT_DISABLED = "webhook_endpoint.disabled"


@dataclass(frozen=True)
class EndpointDisabled:
    """Linktor disabled an endpoint (410 Gone, or failing for 5 days); ``endpoint`` is as it
    is after the change, ``disabled_reason`` saying why."""

    endpoint: WebhookEndpoint

    @property
    def type(self) -> str:
        return ENDPOINT_DISABLED

    @property
    def tenant_id(self) -> str:
        return self.endpoint.tenant_id

    @property
    def subject_name(self) -> str:
        return self.endpoint.name
