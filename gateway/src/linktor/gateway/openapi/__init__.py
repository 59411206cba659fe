"""OpenAPI 3.1 documents from the same descriptors and google.api.http rules as the gateway."""

from linktor.gateway.openapi.document import OpenApiOptions, build_openapi

__all__ = ["OpenApiOptions", "build_openapi"]
