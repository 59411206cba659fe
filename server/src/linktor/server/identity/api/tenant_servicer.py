"""linktor.v1.TenantService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from typing import Any

import grpc

from linktor.server.identity.api.mapping import (
    client_address,
    mask_paths,
    tenant_state_from_proto,
    tenant_to_proto,
)
from linktor.server.identity.app.tenants import TenantAdmin
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.idempotency import fingerprint
from linktor.server.shared.principal import current_principal
from linktor.v1 import tenant_pb2, tenant_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class TenantServicer(tenant_pb2_grpc.TenantServiceServicer):
    def __init__(self, tenants: TenantAdmin) -> None:
        self._tenants = tenants

    async def CreateTenant(
        self, request: tenant_pb2.CreateTenantRequest, context: Context
    ) -> tenant_pb2.Tenant:
        if not request.HasField("tenant"):
            raise InvalidArgument.for_field("tenant", "is required")
        tenant = await self._tenants.create(
            current_principal(),
            tenant_id=request.tenant_id,
            display_name=request.tenant.display_name,
            plan=request.tenant.plan,
            request_id=request.request_id,
            request_hash=fingerprint(request),
            client_address=client_address(context.peer()),
        )
        return tenant_to_proto(tenant)

    async def GetTenant(
        self, request: tenant_pb2.GetTenantRequest, context: Context
    ) -> tenant_pb2.Tenant:
        tenant_id = names.TENANT.parse(request.name)["tenant"]
        return tenant_to_proto(await self._tenants.get(current_principal(), tenant_id))

    async def ListTenants(
        self, request: tenant_pb2.ListTenantsRequest, context: Context
    ) -> tenant_pb2.ListTenantsResponse:
        tenants, token = await self._tenants.list(
            current_principal(),
            size=request.page_size,
            token=request.page_token,
            state=tenant_state_from_proto(request.state),
        )
        return tenant_pb2.ListTenantsResponse(
            tenants=[tenant_to_proto(t) for t in tenants], next_page_token=token
        )

    async def UpdateTenant(
        self, request: tenant_pb2.UpdateTenantRequest, context: Context
    ) -> tenant_pb2.Tenant:
        tenant_id = names.TENANT.parse(request.tenant.name, "tenant.name")["tenant"]
        paths = mask_paths(request.update_mask, ("display_name", "plan"), "tenant")
        if not paths:  # no mask: every field that has a value
            paths = {p for p in ("display_name", "plan") if getattr(request.tenant, p)}
        tenant = await self._tenants.update(
            current_principal(),
            tenant_id,
            display_name=request.tenant.display_name if "display_name" in paths else None,
            plan=request.tenant.plan if "plan" in paths else None,
            etag=request.tenant.etag,
            client_address=client_address(context.peer()),
        )
        return tenant_to_proto(tenant)

    async def SuspendTenant(
        self, request: tenant_pb2.SuspendTenantRequest, context: Context
    ) -> tenant_pb2.Tenant:
        tenant_id = names.TENANT.parse(request.name)["tenant"]
        tenant = await self._tenants.suspend(
            current_principal(), tenant_id, request.reason, client_address(context.peer())
        )
        return tenant_to_proto(tenant)

    async def ReactivateTenant(
        self, request: tenant_pb2.ReactivateTenantRequest, context: Context
    ) -> tenant_pb2.Tenant:
        tenant_id = names.TENANT.parse(request.name)["tenant"]
        tenant = await self._tenants.reactivate(
            current_principal(), tenant_id, client_address(context.peer())
        )
        return tenant_to_proto(tenant)
