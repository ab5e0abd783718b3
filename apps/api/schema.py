"""OpenAPI: every operation says which permission it needs (in its description and as
``x-permission``), requests use the input serializer, API keys are a bearer scheme, and every
operation documents the errors it can answer, in the one error format of
``apps.api.exceptions``:

=====  ===========================================================================================
400    input that does not validate (``ValidationError``): operations with a body or query
       parameters
401    nobody (or an unknown, expired or revoked key) — every operation
403    the caller lacks the permission (or a session write lacks its CSRF token) — every operation
404    an id the caller cannot see, a page past the end — operations with an id or pages
409    the state forbids it (records still depend on it, the session already ended, the station
       is offline) — writes, and every command to a station
429    over the rate limit, with ``Retry-After`` — every operation
502    the station refused the command or it could not be delivered — commands to a station
504    the station did not answer in time — commands to a station
=====  ===========================================================================================
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .exceptions import ErrorSerializer, ValidationErrorSerializer

WRITES = ("POST", "PUT", "PATCH", "DELETE")
ERRORS = {
    "400": (ValidationErrorSerializer, "The input does not validate: the messages per field."),
    "401": (ErrorSerializer, "Not signed in, or an unknown, expired or revoked API key."),
    "403": (ErrorSerializer, "The caller does not hold the permission this needs."),
    "404": (ErrorSerializer, "No such object among those the caller may see (or no such page)."),
    "409": (ErrorSerializer, "The current state does not allow it."),
    "415": (ErrorSerializer, "The body's content type is not one this operation reads."),
    "429": (ErrorSerializer, "Too many requests: wait the seconds of Retry-After."),
    "502": (ErrorSerializer, "The station refused the command, or it could not be delivered."),
    "504": (ErrorSerializer, "The station did not answer in time."),
}


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
        if operation is not None:
            self._add_error_responses(operation)
        return operation

    def _error_codes(self, operation) -> list[str]:
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        in_path = any(p["in"] == "path" for p in parameters)
        station = getattr(self.view, "talks_to_station", False)
        codes = ["401", "403", "429"]
        if self.method in ("POST", "PUT", "PATCH") or query:
            codes.append("400")
        if in_path or "page" in query:
            codes.append("404")
        if self.method in WRITES or station:
            codes.append("409")
        if self.method in ("POST", "PUT", "PATCH") and not any(
            parser.media_type == "application/json" for parser in self.view.get_parsers()
        ):
            codes.append("415")  # an upload (multipart) answers 415 to a JSON body
        if station:
            codes += ["502", "504"]
        return sorted(codes)

    def _add_error_responses(self, operation) -> None:
        station = getattr(self.view, "talks_to_station", False)
        responses = operation.setdefault("responses", {})
        for status_code in self._error_codes(operation):
            if status_code in responses:
                continue  # the view documents this answer itself
            serializer, description = ERRORS[status_code]
            if status_code == "400" and station:
                # a command's payload is checked against the station's OCPP schema: the
                # schema's errors come in ``details`` of the general error shape
                serializer = ErrorSerializer
            response = OpenApiResponse(serializer, description=description)
            responses[status_code] = self._get_response_for_code(response, status_code)
            if status_code == "429":
                responses[status_code]["headers"] = {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": "Seconds to wait before the next request.",
                    }
                }

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
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The portal's session; writes also need the CSRF token header.",
        }
