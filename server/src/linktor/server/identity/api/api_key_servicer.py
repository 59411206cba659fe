"""linktor.v1.ApiKeyService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc

from linktor.server.identity.api.mapping import (
    api_key_to_proto,
    client_address,
    from_duration,
    from_timestamp,
)
from linktor.server.identity.app.api_keys import ApiKeyAdmin
from linktor.server.shared import names
from linktor.server.shared.clock import Clock
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.principal import current_principal
from linktor.v1 import api_key_pb2, api_key_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def _key_name(name: str) -> tuple[str, str]:
    parts = names.API_KEY.parse(name)
    return parts["tenant"], parts["api_key"]


class ApiKeyServicer(api_key_pb2_grpc.ApiKeyServiceServicer):
    def __init__(self, api_keys: ApiKeyAdmin, clock: Clock) -> None:
        self._keys = api_keys
        self._clock = clock

    async def CreateApiKey(
        self, request: api_key_pb2.CreateApiKeyRequest, context: Context
    ) -> api_key_pb2.ApiKey:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        if not request.HasField("api_key"):
            raise InvalidArgument.for_field("api_key", "is required")
        key = request.api_key
        issued = await self._keys.create(
            current_principal(),
            tenant_id,
            display_name=key.display_name,
            scopes=list(key.scopes),
            expire_time=from_timestamp(key.expire_time) if key.HasField("expire_time") else None,
            client_address=client_address(context.peer()),
        )
        return api_key_to_proto(issued.key, self._clock.now(), issued.secret)

    async def GetApiKey(
        self, request: api_key_pb2.GetApiKeyRequest, context: Context
    ) -> api_key_pb2.ApiKey:
        tenant_id, key_id = _key_name(request.name)
        key = await self._keys.get(current_principal(), tenant_id, key_id)
        return api_key_to_proto(key, self._clock.now())

    async def ListApiKeys(
        self, request: api_key_pb2.ListApiKeysRequest, context: Context
    ) -> api_key_pb2.ListApiKeysResponse:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        keys, token = await self._keys.list(
            current_principal(),
            tenant_id,
            size=request.page_size,
            token=request.page_token,
            show_inactive=request.show_inactive,
        )
        now = self._clock.now()
        return api_key_pb2.ListApiKeysResponse(
            api_keys=[api_key_to_proto(k, now) for k in keys], next_page_token=token
        )

    async def RevokeApiKey(
        self, request: api_key_pb2.RevokeApiKeyRequest, context: Context
    ) -> api_key_pb2.ApiKey:
        tenant_id, key_id = _key_name(request.name)
        key = await self._keys.revoke(
            current_principal(), tenant_id, key_id, client_address(context.peer())
        )
        return api_key_to_proto(key, self._clock.now())

    async def RotateApiKey(
        self, request: api_key_pb2.RotateApiKeyRequest, context: Context
    ) -> api_key_pb2.ApiKey:
        tenant_id, key_id = _key_name(request.name)
        issued = await self._keys.rotate(
            current_principal(),
            tenant_id,
            key_id,
            grace=from_duration(request.grace_period),
            client_address=client_address(context.peer()),
        )
        return api_key_to_proto(issued.key, self._clock.now(), issued.secret)
