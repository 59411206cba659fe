"""Use cases of a tenant's webhook endpoints: create, get, list, update, delete, rotate the
signing secret.

Where an endpoint's URL points is checked when it is set (public destinations only, unless the
operator allows more) and again by the sender at every connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from linktor.server.identity.app.plans import PlanLimits
from linktor.server.logs import get_logger
from linktor.server.shared import names
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
from linktor.server.webhooks.app.inputs import EndpointDraft, EndpointPatch
from linktor.server.webhooks.app.ports import Destinations, WebhookStore, WebhookUnitOfWork
from linktor.server.webhooks.app.secrets import EndpointSecrets
from linktor.server.webhooks.domain import rules
from linktor.server.webhooks.domain.endpoint import RateLimit, WebhookEndpoint
from linktor.server.webhooks.domain.signature import new_secret

log = get_logger(__name__)

IDEMPOTENCY_SCOPE = "CreateWebhookEndpoint"
MAX_REQUEST_ID = 128
# Endpoints per tenant: enough for every integration, few enough that one event's fan-out
# stays one small transaction.
MAX_ENDPOINTS = 100
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)
FEATURE = "webhooks"


@dataclass(frozen=True)
class WithSecret:
    """An endpoint and its signing secret in clear: the answer of create and rotate, the only
    times the secret leaves the server."""

    endpoint: WebhookEndpoint
    secret: str


def raise_violations(violations: list[FieldViolation]) -> None:
    if violations:
        named = [FieldViolation("webhook_endpoint." + v.field, v.description) for v in violations]
        raise InvalidArgument("; ".join(f"{v.field}: {v.description}" for v in named[:5]), named)


def not_found(tenant_id: str, endpoint_id: str) -> NotFound:
    return NotFound(f"tenants/{tenant_id}/webhookEndpoints/{endpoint_id} not found")


async def load_endpoint(
    uow: WebhookUnitOfWork, tenant_id: str, endpoint_id: str
) -> WebhookEndpoint:
    endpoint = await uow.endpoints.get(tenant_id, endpoint_id)
    if endpoint is None:
        raise not_found(tenant_id, endpoint_id)
    return endpoint


class EndpointAdmin:
    def __init__(
        self,
        store: WebhookStore,
        secrets: EndpointSecrets,
        destinations: Destinations,
        plans: PlanLimits,
        clock: Clock,
        on_change: Callable[[WebhookEndpoint], None] = lambda _endpoint: None,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._destinations = destinations
        self._plans = plans
        self._clock = clock
        # Told about every stored change (re-enabling wakes the delivery workers).
        self._on_change = on_change

    async def _check_destination(self, url: str) -> None:
        problem = await self._destinations.problem(url)
        if problem is not None:
            raise InvalidArgument.for_field("webhook_endpoint.url", problem)

    # ------------------------------------------------------------------ create

    async def create(
        self,
        principal: Principal,
        tenant_id: str,
        draft: EndpointDraft,
        *,
        request_id: str = "",
        request_hash: str = "",
    ) -> WithSecret:
        """The new endpoint with its secret; a ``request_id`` seen before returns the endpoint
        its first call created, with its current secret (the caller lost the first answer;
        it could rotate the secret just as well)."""
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        if len(request_id) > MAX_REQUEST_ID:
            raise InvalidArgument.for_field("request_id", f"at most {MAX_REQUEST_ID} characters")
        if request_id:
            async with self._store.scoped(tenant_id) as uow:
                earlier = await self._replay(uow, tenant_id, request_id, request_hash)
            if earlier is not None:
                return earlier
        endpoint, secret = self._new_endpoint(tenant_id, draft)
        await self._check_destination(endpoint.url)
        # Read before the transaction: on SQLite a second transaction would wait for ours.
        plan = await self._plans.plan_of(tenant_id)
        plan.require_feature(FEATURE)
        try:
            async with self._store.scoped(tenant_id) as uow:
                if request_id:
                    earlier = await self._replay(uow, tenant_id, request_id, request_hash)
                    if earlier is not None:
                        return earlier
                if await uow.endpoints.count(tenant_id) >= MAX_ENDPOINTS:
                    raise FailedPrecondition(
                        f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
                    )
                await uow.endpoints.add(endpoint)
                if request_id:
                    record = IdempotencyRecord(request_hash, endpoint.name)
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
        log.info("webhook endpoint created", endpoint=endpoint.name)
        self._on_change(endpoint)
        return WithSecret(endpoint, secret)

    def _new_endpoint(self, tenant_id: str, draft: EndpointDraft) -> tuple[WebhookEndpoint, str]:
        violations: list[FieldViolation] = []
        url = rules.url(draft.url, violations)
        event_types = rules.event_types(draft.event_types, violations)
        description = rules.description(draft.description, violations)
        headers = rules.headers(draft.headers, violations)
        rules.rate_limit(draft.rate_limit.per_second, draft.rate_limit.burst, violations)
        schedule = rules.retry_schedule(draft.retry_schedule, violations)
        raise_violations(violations)
        now = self._clock.now()
        endpoint_id = new_id()
        name = names.WEBHOOK_ENDPOINT.format(tenant=tenant_id, webhook_endpoint=endpoint_id)
        secret = new_secret()
        endpoint = WebhookEndpoint(
            id=endpoint_id,
            tenant_id=tenant_id,
            url=url,
            create_time=now,
            update_time=now,
            sealed_secret=self._secrets.seal(name, secret),
            event_types=event_types,
            description=description,
            disabled=draft.disabled,
            headers=headers,
            rate_limit=draft.rate_limit,
            retry_schedule=schedule,
        )
        return endpoint, secret

    async def _replay(
        self, uow: WebhookUnitOfWork, tenant_id: str, request_id: str, request_hash: str
    ) -> WithSecret | None:
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
        endpoint_id = names.WEBHOOK_ENDPOINT.parse(name)["webhook_endpoint"]
        endpoint = await load_endpoint(uow, tenant_id, endpoint_id)
        return WithSecret(endpoint, self._secrets.current(endpoint))

    # ------------------------------------------------------------------ read

    async def get(self, principal: Principal, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
        tenant_id = principal.own_tenant(
            tenant_id, f"tenants/{tenant_id}/webhookEndpoints/{endpoint_id}"
        )
        async with self._store.scoped(tenant_id) as uow:
            return await load_endpoint(uow, tenant_id, endpoint_id)

    async def list(
        self, principal: Principal, tenant_id: str, *, size: int, token: str
    ) -> tuple[list[WebhookEndpoint], str]:
        tenant_id = principal.own_tenant(tenant_id, f"tenants/{tenant_id}")
        limit = page_size(size)
        filters = {"tenant": tenant_id}
        position = PageToken.decode(token, filters)
        async with self._store.scoped(tenant_id) as uow:
            found = await uow.endpoints.list(
                tenant_id, limit=limit + 1, after_id=str(position.last[0]) if position else None
            )
        next_token = ""
        if len(found) > limit:
            found = found[:limit]
            next_token = PageToken([found[-1].id], fingerprint(filters)).encode()
        return found, next_token

    # ------------------------------------------------------------------ change

    async def update(
        self, principal: Principal, tenant_id: str, endpoint_id: str, patch: EndpointPatch
    ) -> WebhookEndpoint:
        tenant_id = principal.own_tenant(
            tenant_id, f"tenants/{tenant_id}/webhookEndpoints/{endpoint_id}"
        )
        async with self._store.scoped(tenant_id) as uow:
            current = await load_endpoint(uow, tenant_id, endpoint_id)
        if patch.etag and patch.etag != current.etag:
            raise Aborted(
                f"{current.name} has changed since it was read ({patch.etag} != {current.etag})"
            )
        changed = self._patched(current, patch)
        if changed.url != current.url:
            await self._check_destination(changed.url)
        if replace(changed, update_time=current.update_time) == current:
            return current
        async with self._store.scoped(tenant_id) as uow:
            saved = await uow.endpoints.update(changed, expected_version=current.version)
            await uow.commit()
        log.info("webhook endpoint updated", endpoint=saved.name)
        self._on_change(saved)
        return saved

    def _patched(self, current: WebhookEndpoint, patch: EndpointPatch) -> WebhookEndpoint:
        violations: list[FieldViolation] = []
        changed = current
        if patch.url is not None:
            changed = replace(changed, url=rules.url(patch.url, violations))
        if patch.event_types is not None:
            changed = replace(changed, event_types=rules.event_types(patch.event_types, violations))
        if patch.description is not None:
            changed = replace(changed, description=rules.description(patch.description, violations))
        if patch.headers is not None:
            changed = replace(changed, headers=rules.headers(patch.headers, violations))
        if patch.rate_limit is not None:
            rate = patch.rate_limit
            rules.rate_limit(rate.per_second, rate.burst, violations)
            changed = replace(changed, rate_limit=RateLimit(rate.per_second, rate.burst))
        if patch.retry_schedule is not None:
            schedule = rules.retry_schedule(patch.retry_schedule, violations)
            changed = replace(changed, retry_schedule=schedule)
        raise_violations(violations)
        if patch.disabled is not None and patch.disabled != current.disabled:
            # Enabled again: a fresh start (no inherited failure streak or reason). Paused by
            # a user: no reason, that is the user's own.
            changed = replace(
                changed, disabled=patch.disabled, disabled_reason="", failing_since=None
            )
        if changed != current:
            changed = replace(changed, update_time=self._clock.now())
        return changed

    async def delete(self, principal: Principal, tenant_id: str, endpoint_id: str) -> None:
        """The endpoint, its pending deliveries and its delivery log go."""
        tenant_id = principal.own_tenant(
            tenant_id, f"tenants/{tenant_id}/webhookEndpoints/{endpoint_id}"
        )
        async with self._store.scoped(tenant_id) as uow:
            if not await uow.endpoints.delete(tenant_id, endpoint_id):
                raise not_found(tenant_id, endpoint_id)
            await uow.commit()
        log.info(
            "webhook endpoint deleted",
            endpoint=f"tenants/{tenant_id}/webhookEndpoints/{endpoint_id}",
        )

    async def rotate_secret(
        self,
        principal: Principal,
        tenant_id: str,
        endpoint_id: str,
        grace: timedelta | None = None,
    ) -> WithSecret:
        """A new signing secret; the current one keeps signing for ``grace`` (24 h when
        None, at most 7 days; zero: stops at once)."""
        tenant_id = principal.own_tenant(
            tenant_id, f"tenants/{tenant_id}/webhookEndpoints/{endpoint_id}"
        )
        grace = DEFAULT_GRACE if grace is None else grace
        if not timedelta(0) <= grace <= MAX_GRACE:
            raise InvalidArgument.for_field("grace_period", "must be between 0 and 7 days")
        async with self._store.scoped(tenant_id) as uow:
            current = await load_endpoint(uow, tenant_id, endpoint_id)
            secret = new_secret()
            rotated = current.rotated(
                self._secrets.seal(current.name, secret), grace, self._clock.now()
            )
            saved = await uow.endpoints.update(rotated, expected_version=current.version)
            await uow.commit()
        log.info("webhook secret rotated", endpoint=saved.name, grace_seconds=grace.total_seconds())
        return WithSecret(saved, secret)
