"""Remote commands to stations (``/stations/{id}/<command>/``) and the OCPP logs.

Each command is one call to the OCPP command service (``apps.ocpp.commands``) and one audit
entry, whatever the outcome; the service's errors become HTTP in the API's exception handler
(offline 409, timeout 504, refused by the station 502, invalid payload 400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.exceptions import Conflict
from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedViewSet, jsonable
from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.stations.models import Station

from .. import commands, payloads
from ..models import MessageLog, StationEvent
from .filtersets import MessageLogFilterSet, StationEventFilterSet
from .serializers import (
    AvailabilitySerializer,
    CommandResultSerializer,
    ConfigurationChangeResultSerializer,
    ConfigurationChangeSerializer,
    ConfigurationQuerySerializer,
    ConfigurationResultSerializer,
    MessageLogSerializer,
    RawCallResultSerializer,
    RawCallSerializer,
    RemoteStartResultSerializer,
    RemoteStartSerializer,
    RemoteStopSerializer,
    ResetSerializer,
    StationEventSerializer,
    TriggerMessageSerializer,
    UnlockSerializer,
)

COMMAND = "stations.command"
CONFIGURE = "stations.configure"
RAW = "ocpp.raw_call"


def _version(station: Station) -> str:
    if not station.ocpp_version:
        raise commands.StationOffline(_("The station has never connected."))
    return station.ocpp_version


class StationCommandViewSet(ScopedViewSet):
    """Remote commands.  The answer is the station's own, or a clear error."""

    talks_to_station = True  # the schema documents the station's errors (409, 502, 504)
    queryset = Station.objects.select_related("site")
    serializer_class = CommandResultSerializer
    filter_backends: list = []
    pagination_class = None
    audit_name = "station"
    view_permission = CONFIGURE
    action_permissions = {
        "remote_start": COMMAND,
        "remote_stop": COMMAND,
        "reset": COMMAND,
        "unlock": COMMAND,
        "availability": COMMAND,
        "trigger_message": COMMAND,
        "configuration": CONFIGURE,
        "change_configuration": CONFIGURE,
        "ocpp_call": RAW,
    }

    # --- plumbing: one command call, one audit entry -------------------------------------------
    def _input(self, serializer_class) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _run(self, station: Station, name: str, request: dict, send: Callable[[], Any]) -> Any:
        try:
            answer = send()
        except commands.CommandError as error:
            self._audit_failure(station, name, request, error)
            raise
        self.audit(name, station, changes={"request": request, "response": jsonable(answer)})
        return answer

    def _audit_failure(self, station: Station, name: str, request: dict, error: Exception):
        failure = {"type": type(error).__name__, "message": str(error)}
        for attribute in ("code", "description", "errors"):
            if hasattr(error, attribute):
                failure[attribute] = getattr(error, attribute)
        self.audit(name, station, changes={"request": request, "error": failure}, succeeded=False)

    def _version(self, station: Station, name: str, data: dict) -> str:
        try:
            return _version(station)
        except commands.CommandError as error:
            self._audit_failure(station, name, {"input": jsonable(data)}, error)
            raise

    def _call(
        self, station: Station, name: str, data: dict, build: Callable[[str], payloads.Call]
    ) -> Response:
        """Build the version's payload and send it: a station that never connected is offline
        (and the attempt is audited like any other)."""
        request = {"input": jsonable(data)}

        def send():
            call = build(_version(station))
            request.update(action=call.action, payload=call.payload)
            return commands.station_call(station, call.action, call.payload)

        answer = self._run(station, name, request, send)
        return Response({"status": answer.get("status", ""), "response": answer})

    # --- commands -----------------------------------------------------------------------------
    @extend_schema(request=RemoteStartSerializer, responses=RemoteStartResultSerializer)
    @action(detail=True, methods=["post"], url_path="remote-start")
    def remote_start(self, request, pk=None):
        """Start charging on a port; answers once the station reports the session (or not)."""
        station = self.get_object()
        data = self._input(RemoteStartSerializer)
        if not station.evses.filter(evse_id=data["evse_id"]).exists():
            raise drf_serializers.ValidationError({"evse_id": [_("No such port.")]})
        result = self._run(
            station,
            "session.remote_start",  # the portal's name for it too
            data,
            lambda: commands.remote_start(
                station=station,
                evse_id=data["evse_id"],
                id_token=data["id_token"],
                token_type=data["token_type"],
            ),
        )
        return Response(
            {
                "status": result.status,
                "session_id": result.session_id,
                "transaction_id": result.transaction_id,
            }
        )

    @extend_schema(request=RemoteStopSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="remote-stop")
    def remote_stop(self, request, pk=None):
        """Stop an active session of this station."""
        station = self.get_object()
        data = self._input(RemoteStopSerializer)
        session = (
            ChargingSession.objects.select_related("station")
            .filter(station=station, pk=data["session_id"])
            .first()
        )
        if session is None:
            raise drf_serializers.ValidationError(
                {"session_id": [_("No such session on this station.")]}
            )
        if session.status != SessionStatus.ACTIVE:
            raise Conflict(_("The session has already ended."))
        status = self._run(
            station, "session.remote_stop", data, lambda: commands.remote_stop(session=session)
        )
        return Response({"status": status, "response": {"status": status}})

    @extend_schema(request=ResetSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"])
    def reset(self, request, pk=None):
        """Reboot the station: soft (when idle) or hard (at once)."""
        station = self.get_object()
        data = self._input(ResetSerializer)
        return self._call(
            station,
            "reset",
            data,
            lambda version: payloads.reset(version, hard=data["kind"] == "hard"),
        )

    @extend_schema(request=UnlockSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        """Release the cable locked in a port."""
        station = self.get_object()
        data = self._input(UnlockSerializer)
        return self._call(station, "unlock", data, lambda version: payloads.unlock(version, **data))

    @extend_schema(request=AvailabilitySerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"])
    def availability(self, request, pk=None):
        """Make the station, or one port, available (operative) or unavailable."""
        station = self.get_object()
        data = self._input(AvailabilitySerializer)
        return self._call(
            station,
            "availability",
            data,
            lambda version: payloads.availability(
                version, operative=data["operative"], evse_id=data.get("evse_id")
            ),
        )

    @extend_schema(request=TriggerMessageSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="trigger-message")
    def trigger_message(self, request, pk=None):
        """Ask the station to send a message now (StatusNotification, MeterValues...)."""
        station = self.get_object()
        data = self._input(TriggerMessageSerializer)
        return self._call(
            station,
            "trigger_message",
            data,
            lambda version: payloads.trigger(
                version, message=data["message"], evse_id=data.get("evse_id")
            ),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "key",
                str,
                many=True,
                description="1.6 key, or 2.0.1 Component/Variable[/Instance]; repeatable",
            )
        ],
        responses=ConfigurationResultSerializer,
    )
    @action(detail=True, methods=["get"])
    def configuration(self, request, pk=None):
        """Read configuration keys (1.6 GetConfiguration) or variables (2.0.1 GetVariables)."""
        station = self.get_object()
        query = ConfigurationQuerySerializer(data={"key": request.query_params.getlist("key")})
        query.is_valid(raise_exception=True)
        version = self._version(station, "configuration_read", query.validated_data)
        try:
            call = payloads.configuration_get(version, keys=query.validated_data["key"])
        except payloads.BadKey as error:
            raise drf_serializers.ValidationError({"key": [str(error)]}) from None
        answer = self._run(
            station,
            "configuration_read",
            {"action": call.action, "payload": call.payload},
            lambda: commands.station_call(station, call.action, call.payload),
        )
        values = payloads.configuration_values(version, answer, keys=query.validated_data["key"])
        return Response({**values.as_dict(), "response": answer})

    @extend_schema(
        request=ConfigurationChangeSerializer, responses=ConfigurationChangeResultSerializer
    )
    @configuration.mapping.post
    def change_configuration(self, request, pk=None):
        """Change configuration keys (1.6 ChangeConfiguration, one per key) or variables
        (2.0.1 SetVariables).  Each key answers Accepted, Rejected, RebootRequired..."""
        station = self.get_object()
        changes = self._input(ConfigurationChangeSerializer)["changes"]
        version = self._version(station, "configuration_change", {"changes": changes})
        try:
            calls = payloads.configuration_set(version, changes=changes)
        except payloads.BadKey as error:
            raise drf_serializers.ValidationError({"changes": [str(error)]}) from None
        for call in calls:  # refuse the whole change before sending any part of it
            commands.validate_action_payload(version, call.action, call.payload)
        answers = self._run(
            station,
            "configuration_change",
            {"calls": [{"action": c.action, "payload": c.payload} for c in calls]},
            lambda: [commands.station_call(station, c.action, c.payload) for c in calls],
        )
        results = payloads.configuration_results(version, changes, answers)
        return Response({"results": results, "response": answers})

    @extend_schema(request=RawCallSerializer, responses=RawCallResultSerializer)
    @action(detail=True, methods=["post"], url_path="ocpp-call")
    def ocpp_call(self, request, pk=None):
        """Send any OCPP action of the station's version with a raw payload, validated against
        the action's JSON schema before it is sent (for operators and site admins)."""
        station = self.get_object()
        data = self._input(RawCallSerializer)
        version = self._version(station, "ocpp_call", data)
        commands.validate_action_payload(version, data["action"], data["payload"])
        answer = self._run(
            station,
            "ocpp_call",
            {"action": data["action"], "payload": data["payload"]},
            lambda: commands.station_call(
                station, data["action"], data["payload"], timeout=data.get("timeout")
            ),
        )
        return Response({"response": answer})


class MessageLogViewSet(ReadOnlyScopedViewSet):
    """Every OCPP frame to and from the stations (kept for a limited time)."""

    queryset = MessageLog.objects.all()
    serializer_class = MessageLogSerializer
    filterset_class = MessageLogFilterSet
    view_permission = "stations.view"


class StationEventViewSet(ReadOnlyScopedViewSet):
    """What stations notify besides status and sessions: firmware, diagnostics, security..."""

    queryset = StationEvent.objects.all()
    serializer_class = StationEventSerializer
    filterset_class = StationEventFilterSet
    view_permission = "stations.view"
