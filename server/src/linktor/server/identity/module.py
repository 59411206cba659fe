"""The identity context wired from settings: adapters in, use cases and the authenticator
out. Built once by the composition root (bootstrap.Container.identity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from linktor.server.config import Settings
from linktor.server.identity.adapters.passwords import Argon2PasswordHasher
from linktor.server.identity.adapters.secrets import Sha256Credentials
from linktor.server.identity.adapters.signing_keys import access_tokens_from
from linktor.server.identity.adapters.sql import SqlIdentityStore
from linktor.server.identity.api.permissions import PERMISSIONS
from linktor.server.identity.app.api_keys import ApiKeyAdmin
from linktor.server.identity.app.audit_log import AuditLog
from linktor.server.identity.app.authenticate import Authenticator, AuthPolicy
from linktor.server.identity.app.operators import OperatorAdmin
from linktor.server.identity.app.passwords import PasswordPolicy, Passwords
from linktor.server.identity.app.plans import PlanCatalog, TenantPlans
from linktor.server.identity.app.ports import AccessTokens, IdentityStore, PasswordHasher
from linktor.server.identity.app.sessions import SessionPolicy, Sessions
from linktor.server.identity.app.tenants import TenantAdmin
from linktor.server.identity.app.users import UserAdmin
from linktor.server.identity.domain.plan import Limit, Plan
from linktor.server.infra.cache.port import RateLimiter
from linktor.server.shared.clock import Clock


@dataclass
class IdentityServices:
    store: IdentityStore
    authenticator: Authenticator
    plans: TenantPlans
    tenants: TenantAdmin
    users: UserAdmin
    sessions: Sessions
    passwords: Passwords
    api_keys: ApiKeyAdmin
    audit: AuditLog
    operators: OperatorAdmin
    clock: Clock


def plan_catalog(settings: Settings) -> PlanCatalog:
    plans = {
        plan_id: Plan(
            id=plan_id,
            display_name=plan.display_name or plan_id,
            limits={
                Limit.MESSAGES_PER_MONTH: plan.messages_per_month,
                Limit.CHANNELS: plan.channels,
                Limit.AGENTS: plan.agents,
                Limit.API_KEYS: plan.api_keys,
            },
            features=dict(plan.features),
        )
        for plan_id, plan in settings.plans.items()
    }
    return PlanCatalog(plans, settings.default_plan)


def build_identity(
    settings: Settings,
    engine: AsyncEngine,
    rate_limiter: RateLimiter,
    clock: Clock,
    *,
    passwords: PasswordHasher | None = None,
    tokens: AccessTokens | None = None,
) -> IdentityServices:
    store = SqlIdentityStore(engine)
    credentials = Sha256Credentials()
    passwords = passwords or Argon2PasswordHasher()
    tokens = tokens or access_tokens_from(settings)
    catalog = plan_catalog(settings)
    plans = TenantPlans(store, catalog, clock, ttl=settings.auth_cache_ttl_seconds)
    authenticator = Authenticator(
        store,
        credentials,
        tokens,
        rate_limiter,
        clock,
        PERMISSIONS,
        AuthPolicy(
            cache_ttl=settings.auth_cache_ttl_seconds,
            tenant_rate=settings.rate_limit_tenant_per_second,
            tenant_burst=settings.rate_limit_tenant_burst,
            api_key_rate=settings.rate_limit_api_key_per_second,
            api_key_burst=settings.rate_limit_api_key_burst,
        ),
    )

    def tenant_changed(tenant_id: str) -> None:
        authenticator.forget_tenant(tenant_id)
        plans.forget(tenant_id)

    return IdentityServices(
        store=store,
        authenticator=authenticator,
        plans=plans,
        tenants=TenantAdmin(
            store, catalog, passwords, credentials, clock, on_change=tenant_changed
        ),
        users=UserAdmin(store, passwords, plans, clock, on_change=authenticator.forget_member),
        sessions=Sessions(
            store,
            passwords,
            credentials,
            tokens,
            rate_limiter,
            clock,
            SessionPolicy(
                access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
                refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
                attempts_per_account_per_minute=settings.login_attempts_per_account_per_minute,
                attempts_per_address_per_minute=settings.login_attempts_per_address_per_minute,
            ),
        ),
        passwords=Passwords(
            store,
            passwords,
            credentials,
            rate_limiter,
            clock,
            PasswordPolicy(
                setup_ttl=timedelta(seconds=settings.password_setup_ttl_seconds),
                attempts_per_account_per_minute=settings.login_attempts_per_account_per_minute,
                attempts_per_address_per_minute=settings.login_attempts_per_address_per_minute,
            ),
            on_change=authenticator.forget_member,
        ),
        api_keys=ApiKeyAdmin(
            store,
            credentials,
            plans,
            clock,
            on_change=lambda key: authenticator.forget_api_key(key.prefix),
        ),
        audit=AuditLog(store),
        operators=OperatorAdmin(
            store, credentials, clock, on_revoke=authenticator.forget_operator_key
        ),
        clock=clock,
    )
