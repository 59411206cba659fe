"""Platform operator keys, made on the server by ``linktor operator create-key``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linktor.server.identity.app.ports import Credentials, IdentityStore
from linktor.server.identity.domain.operator import OperatorKey
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import InvalidArgument, NotFound
from linktor.server.shared.ids import new_id


@dataclass(frozen=True)
class IssuedOperatorKey:
    key: OperatorKey
    secret: str


class OperatorAdmin:
    def __init__(
        self,
        store: IdentityStore,
        credentials: Credentials,
        clock: Clock,
        on_revoke: Callable[[str], None] = lambda _prefix: None,
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._clock = clock
        self._on_revoke = on_revoke

    async def create_key(self, display_name: str) -> IssuedOperatorKey:
        name = display_name.strip()
        if not name or len(name) > 200:
            raise InvalidArgument.for_field("name", "must be 1 to 200 characters (who holds it)")
        prefix, secret = self._credentials.new_operator_key()
        key = OperatorKey(new_id(), name, prefix, self._credentials.hash(secret), self._clock.now())
        async with self._store.privileged() as uow:
            await uow.operator_keys.add(key)
            await uow.commit()
        return IssuedOperatorKey(key, secret)

    async def list_keys(self) -> list[OperatorKey]:
        """Every operator key (never their secrets), revoked ones included."""
        async with self._store.privileged() as uow:
            return await uow.operator_keys.list()

    async def revoke_key(self, prefix: str) -> OperatorKey:
        """Revoke a key by its prefix (``lko_...`` as printed at creation); idempotent. Other
        replicas stop accepting it within LINKTOR_AUTH_CACHE_TTL_SECONDS."""
        async with self._store.privileged() as uow:
            key = await uow.operator_keys.revoke(prefix.strip(), self._clock.now())
            if key is None:
                raise NotFound(f"no operator key has the prefix {prefix.strip()!r}")
            await uow.commit()
        self._on_revoke(key.prefix)
        return key
