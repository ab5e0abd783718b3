"""One error format for the whole API, and the one place where domain errors become HTTP.

Every error answers ``{"error": {"code": ..., "message": ..., "details": ...}}``: ``code`` is
stable and machine-readable, ``message`` is for people, ``details`` holds per-field messages for
invalid input or the station's own error for a command.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class StationOfflineError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The station is not connected.")
    default_code = "station_offline"


class StationTimeoutError(exceptions.APIException):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_detail = _("The station did not answer in time.")
    default_code = "station_timeout"


class StationRejectedError(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = _("The station refused the command.")
    default_code = "station_rejected"


class CommandFailedError(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = _("The command could not be delivered to the station.")
    default_code = "command_failed"


class InvalidPayloadError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The payload does not follow the OCPP schema of the station's version.")
    default_code = "invalid_payload"


class ApiError(Exception):
    """An APIException together with the ``details`` to show (station errors, schema errors)."""

    def __init__(self, exc: exceptions.APIException, details: Any = None) -> None:
        super().__init__(str(exc.detail))
        self.exc = exc
        self.details = details


def translate_command_error(error: Exception) -> ApiError | None:
    """Map the OCPP command service's errors (``apps.ocpp.commands``) to API errors."""
    try:
        from apps.ocpp import commands
    except ImportError:  # the OCPP command layer is not installed in this build
        return None
    if isinstance(error, commands.StationOffline):
        return ApiError(StationOfflineError(str(error) or None))
    if isinstance(error, commands.CommandTimeout):
        return ApiError(StationTimeoutError(str(error) or None))
    if isinstance(error, commands.CommandRejected):
        return ApiError(
            StationRejectedError(),
            details={
                "code": getattr(error, "code", ""),
                "description": getattr(error, "description", ""),
            },
        )
    if isinstance(error, commands.InvalidPayload):
        return ApiError(InvalidPayloadError(), details={"errors": getattr(error, "errors", [])})
    if isinstance(error, commands.CommandError):
        return ApiError(CommandFailedError(str(error) or None))
    return None


def _translate(exc: Exception) -> tuple[Exception, Any]:
    if isinstance(exc, ApiError):
        return exc.exc, exc.details
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(detail), None
    if isinstance(exc, ProtectedError | RestrictedError):
        return Conflict(_("Other records still depend on this one; remove them first.")), None
    if isinstance(exc, Http404):
        return exceptions.NotFound(), None
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(), None
    translated = translate_command_error(exc)
    if translated is not None:
        return translated.exc, translated.details
    return exc, None


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    exc, details = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling (and logging) takes over
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "invalid",
            "message": str(_("Invalid input.")),
            "details": exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail},
        }
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(exc.detail) if isinstance(exc, exceptions.APIException) else str(exc),
            "details": details,
        }
    response.data = {"error": body}
    return response


# --- The shapes above, for the OpenAPI schema (apps/api/schema.py) -----------------------------
class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable and machine-readable: not_authenticated, authentication_failed, "
        "permission_denied, not_found, conflict, station_offline, throttled, invalid_payload..."
    )
    message = serializers.CharField(help_text="For people, in the caller's language.")
    details = serializers.JSONField(
        allow_null=True,
        help_text="The station's own error for a refused command, the schema errors of an "
        "invalid OCPP payload; null otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ValidationErrorDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["invalid"])
    message = serializers.CharField()
    details = serializers.DictField(
        child=serializers.JSONField(),
        help_text='Per field, its messages: {"name": ["This field is required."]}; errors of '
        "the whole input under non_field_errors; nested input nests the same way.",
    )


class ValidationErrorSerializer(serializers.Serializer):
    error = ValidationErrorDetailSerializer()
