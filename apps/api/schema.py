"""OpenAPI: every operation says which permission it needs (in its description and as
``x-permission``), requests use the input serializer, and API keys are a bearer scheme."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class ScopedAutoSchema(AutoSchema):
    def _permission(self) -> tuple[bool, str | None]:
        permission_for = getattr(self.view, "permission_for", None)
        if permission_for is None:
            return False, None
        return True, permission_for(getattr(self.view, "action", None), self.method)

    def get_description(self) -> str:
        description = super().get_description() or ""
        known, code = self._permission()
        if not known:
            return description
        if code is None:
            note = "**Permission:** any signed-in caller."
        else:
            note = (
                f"**Permission:** `{code}`. Only rows of the sites where the caller holds it "
                "are visible; anything else answers 404."
            )
        return f"{description}\n\n{note}".strip()

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        known, code = self._permission()
        if operation is not None and known:
            operation["x-permission"] = code or "authenticated"
        return operation

    def get_request_serializer(self):
        input_class = getattr(self.view, "input_serializer_for", None)
        if input_class is not None and self.method in ("POST", "PUT", "PATCH"):
            serializer = input_class(getattr(self.view, "action", None))
            if serializer is not None:
                return serializer
        return super().get_request_serializer()


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "cg_<prefix>_<secret>",
            "description": "An API key created in the portal (People → API keys).",
        }


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The portal's session; writes also need the CSRF token header.",
        }
