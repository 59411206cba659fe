"""SQL repositories of credentials: API keys, refresh tokens, password setup tokens,
operator keys."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from linktor.server.identity.adapters.tables import (
    api_keys,
    operator_keys,
    password_setups,
    refresh_tokens,
)
from linktor.server.identity.domain.api_key import ApiKey, ApiKeyState
from linktor.server.identity.domain.operator import OperatorKey
from linktor.server.identity.domain.password_setup import PasswordSetup
from linktor.server.identity.domain.session import RefreshToken, RefreshTokenState


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        display_name=row.display_name,
        prefix=row.prefix,
        secret_hash=row.secret_hash,
        scopes=frozenset(row.scopes),
        state=ApiKeyState(row.state),
        create_time=row.create_time,
        creator=row.creator,
        expire_time=row.expire_time,
        last_use_time=row.last_use_time,
        revoke_time=row.revoke_time,
        previous_secret_hash=row.previous_secret_hash,
        previous_secret_expire_time=row.previous_secret_expire_time,
    )


def _api_key_values(key: ApiKey) -> dict[str, Any]:
    return {
        "display_name": key.display_name,
        "prefix": key.prefix,
        "secret_hash": key.secret_hash,
        "previous_secret_hash": key.previous_secret_hash,
        "previous_secret_expire_time": key.previous_secret_expire_time,
        "scopes": sorted(key.scopes),
        "state": key.state.value,
        "expire_time": key.expire_time,
        "last_use_time": key.last_use_time,
        "revoke_time": key.revoke_time,
    }


class SqlApiKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, key: ApiKey) -> None:
        await self._conn.execute(
            insert(api_keys).values(
                id=key.id,
                tenant_id=key.tenant_id,
                create_time=key.create_time,
                creator=key.creator,
                **_api_key_values(key),
            )
        )

    async def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        query = select(api_keys).where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else _api_key(row)

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        row = (
            await self._conn.execute(select(api_keys).where(api_keys.c.prefix == prefix))
        ).one_or_none()
        return None if row is None else _api_key(row)

    async def list(
        self, tenant_id: str, *, limit: int, before_id: str | None, active_at: datetime | None
    ) -> list[ApiKey]:
        query = (
            select(api_keys)
            .where(api_keys.c.tenant_id == tenant_id)
            .order_by(api_keys.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(api_keys.c.id < before_id)
        if active_at is not None:
            query = query.where(
                api_keys.c.state == ApiKeyState.ACTIVE.value,
                or_(api_keys.c.expire_time.is_(None), api_keys.c.expire_time > active_at),
            )
        return [_api_key(row) for row in await self._conn.execute(query)]

    async def update(self, key: ApiKey) -> None:
        await self._conn.execute(
            update(api_keys)
            .where(api_keys.c.tenant_id == key.tenant_id, api_keys.c.id == key.id)
            .values(**_api_key_values(key))
        )

    async def count_active(self, tenant_id: str, now: datetime) -> int:
        query = select(func.count()).where(
            api_keys.c.tenant_id == tenant_id,
            api_keys.c.state == ApiKeyState.ACTIVE.value,
            or_(api_keys.c.expire_time.is_(None), api_keys.c.expire_time > now),
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def touch(self, tenant_id: str, key_id: str, now: datetime) -> None:
        await self._conn.execute(
            update(api_keys)
            .where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
            .values(last_use_time=now)
        )


def _refresh_token(row: Any) -> RefreshToken:
    return RefreshToken(
        id=row.id,
        family_id=row.family_id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        token_hash=row.token_hash,
        state=RefreshTokenState(row.state),
        create_time=row.create_time,
        expire_time=row.expire_time,
        use_time=row.use_time,
        revoke_time=row.revoke_time,
    )


class SqlRefreshTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: RefreshToken) -> None:
        await self._conn.execute(
            insert(refresh_tokens).values(
                id=token.id,
                family_id=token.family_id,
                tenant_id=token.tenant_id,
                user_id=token.user_id,
                token_hash=token.token_hash,
                state=token.state.value,
                create_time=token.create_time,
                expire_time=token.expire_time,
                use_time=token.use_time,
                revoke_time=token.revoke_time,
            )
        )

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else _refresh_token(row)

    async def mark_rotated(self, token_id: str, now: datetime) -> bool:
        result = await self._conn.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.id == token_id,
                refresh_tokens.c.state == RefreshTokenState.ACTIVE.value,
            )
            .values(state=RefreshTokenState.ROTATED.value, use_time=now)
        )
        return bool(result.rowcount == 1)

    async def revoke_family(self, family_id: str, now: datetime) -> int:
        result = await self._conn.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.family_id == family_id,
                refresh_tokens.c.state != RefreshTokenState.REVOKED.value,
            )
            .values(state=RefreshTokenState.REVOKED.value, revoke_time=now)
        )
        return int(result.rowcount)

    async def revoke_for_user(self, tenant_id: str, user_id: str, now: datetime) -> int:
        result = await self._conn.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.tenant_id == tenant_id,
                refresh_tokens.c.user_id == user_id,
                refresh_tokens.c.state != RefreshTokenState.REVOKED.value,
            )
            .values(state=RefreshTokenState.REVOKED.value, revoke_time=now)
        )
        return int(result.rowcount)

    async def revoke_for_person(
        self, user_id: str, now: datetime, *, keep_family: str | None = None
    ) -> int:
        query = update(refresh_tokens).where(
            refresh_tokens.c.user_id == user_id,
            refresh_tokens.c.state != RefreshTokenState.REVOKED.value,
        )
        if keep_family is not None:
            query = query.where(refresh_tokens.c.family_id != keep_family)
        result = await self._conn.execute(
            query.values(state=RefreshTokenState.REVOKED.value, revoke_time=now)
        )
        return int(result.rowcount)


class SqlPasswordSetupRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, setup: PasswordSetup) -> None:
        await self._conn.execute(
            insert(password_setups).values(
                id=setup.id,
                user_id=setup.user_id,
                tenant_id=setup.tenant_id,
                token_hash=setup.token_hash,
                creator=setup.creator,
                create_time=setup.create_time,
                expire_time=setup.expire_time,
                use_time=setup.use_time,
                revoke_time=setup.revoke_time,
            )
        )

    async def get_by_hash(self, token_hash: str) -> PasswordSetup | None:
        query = select(password_setups).where(password_setups.c.token_hash == token_hash)
        row = (await self._conn.execute(query)).one_or_none()
        if row is None:
            return None
        return PasswordSetup(
            id=row.id,
            user_id=row.user_id,
            tenant_id=row.tenant_id,
            token_hash=row.token_hash,
            creator=row.creator,
            create_time=row.create_time,
            expire_time=row.expire_time,
            use_time=row.use_time,
            revoke_time=row.revoke_time,
        )

    async def mark_used(self, setup_id: str, now: datetime) -> bool:
        result = await self._conn.execute(
            update(password_setups)
            .where(
                password_setups.c.id == setup_id,
                password_setups.c.use_time.is_(None),
                password_setups.c.revoke_time.is_(None),
            )
            .values(use_time=now)
        )
        return bool(result.rowcount == 1)

    async def revoke_unused(self, user_id: str, now: datetime) -> int:
        result = await self._conn.execute(
            update(password_setups)
            .where(
                password_setups.c.user_id == user_id,
                password_setups.c.use_time.is_(None),
                password_setups.c.revoke_time.is_(None),
            )
            .values(revoke_time=now)
        )
        return int(result.rowcount)


class SqlOperatorKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, key: OperatorKey) -> None:
        await self._conn.execute(
            insert(operator_keys).values(
                id=key.id,
                display_name=key.display_name,
                prefix=key.prefix,
                secret_hash=key.secret_hash,
                create_time=key.create_time,
                revoke_time=key.revoke_time,
            )
        )

    async def get_by_prefix(self, prefix: str) -> OperatorKey | None:
        query = select(operator_keys).where(operator_keys.c.prefix == prefix)
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else _operator_key(row)

    async def list(self) -> builtins.list[OperatorKey]:
        query = select(operator_keys).order_by(operator_keys.c.create_time, operator_keys.c.id)
        return [_operator_key(row) for row in await self._conn.execute(query)]

    async def revoke(self, prefix: str, now: datetime) -> OperatorKey | None:
        await self._conn.execute(
            update(operator_keys)
            .where(operator_keys.c.prefix == prefix, operator_keys.c.revoke_time.is_(None))
            .values(revoke_time=now)
        )
        return await self.get_by_prefix(prefix)


def _operator_key(row: Any) -> OperatorKey:
    return OperatorKey(
        row.id, row.display_name, row.prefix, row.secret_hash, row.create_time, row.revoke_time
    )
