"""Idempotency keys (AIP-155), the part use cases see.

A create with a ``request_id`` first asks :func:`first_result`: a hit with the same request
fingerprint gives the resource the first call created; a hit with another fingerprint is
refused (REQUEST_ID_REUSED). On a miss the use case does its work and stores the key in the
SAME transaction, so the key exists if and only if the work was committed. Two concurrent
first calls race on the key: the loser's insert fails with :class:`ConcurrentRequest` and it
starts over from the lookup, which then finds the winner's result. The SQL store is
``linktor.server.infra.idempotency.store``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from google.protobuf.message import Message as ProtoMessage

from linktor.server.shared.errors import AlreadyExists

# Keys are kept at least this long (DESIGN §4 asks for 24 hours).
DEFAULT_TTL = timedelta(hours=48)


class ConcurrentRequest(Exception):
    """Another call with the same key committed first; look the key up again."""


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    resource_name: str


class IdempotencyLookup(Protocol):
    async def get(
        self, tenant_id: str, scope: str, key: str, now: datetime
    ) -> IdempotencyRecord | None: ...


def fingerprint(request: ProtoMessage, *, ignore: tuple[str, ...] = ("request_id",)) -> str:
    """A stable hash of a request without its idempotency key and other ignored fields."""
    copy = type(request)()
    copy.CopyFrom(request)
    for name in ignore:
        copy.ClearField(name)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def reused(scope: str, key: str) -> AlreadyExists:
    return AlreadyExists(
        f"request_id {key!r} was already used for a different {scope} request",
        reason="REQUEST_ID_REUSED",
        metadata={"request_id": key},
    )


async def first_result(
    keys: IdempotencyLookup,
    tenant_id: str,
    scope: str,
    key: str,
    request_hash: str,
    now: datetime,
) -> str | None:
    """The resource name the first call with ``key`` created, or None on a first call;
    REQUEST_ID_REUSED when the key came with a different request before."""
    record = await keys.get(tenant_id, scope, key, now)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise reused(scope, key)
    return record.resource_name
