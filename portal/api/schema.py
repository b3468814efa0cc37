"""OpenAPI generation for our APIViews, which answer Backstage-shaped JSON without DRF
serializers: bodies are described as JSON objects, operations carry Backstage's operation
ids where a view names them, and bearer tokens are a security scheme."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes


class PortalAutoSchema(AutoSchema):
    def get_operation_id(self) -> str:
        names = getattr(self.view, "operation_ids", {})
        return names.get(self.method.lower()) or super().get_operation_id()

    def get_request_serializer(self) -> Any:
        if self.method in ("POST", "PUT", "PATCH"):
            return OpenApiTypes.OBJECT
        return None

    def get_response_serializers(self) -> Any:
        if self.method == "DELETE":
            return {204: None}
        return OpenApiTypes.OBJECT


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.auth.BearerTokenAuthentication"
    name = "serviceToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "manage.py api_token NAME"}
