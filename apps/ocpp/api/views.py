"""Remote commands to stations (``/stations/{id}/<command>/``) and the OCPP logs.

Each command is one call to the OCPP command service (``apps.ocpp.commands``), the portal's
too, which writes the audit entry; a failed command comes back as a reply whose error becomes
HTTP in the API's exception handler (offline 409, timeout 504, refused by the station 502,
invalid payload 400).
"""

from __future__ import annotations

import secrets

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.exceptions import Conflict
from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedViewSet
from apps.audit.choices import AuditSource
from apps.audit.services import client_ip
from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.stations.models import Station

from .. import commands, payloads
from .. import services as ocpp_services
from ..models import MessageLog, StationEvent
from ..selectors import station_message_limits
from .filtersets import MessageLogFilterSet, StationEventFilterSet
from .serializers import (
    AvailabilitySerializer,
    CancelReservationSerializer,
    ChargingProfileSerializer,
    ClearChargingProfileSerializer,
    ClearDisplayMessageSerializer,
    CommandResultSerializer,
    CompositeScheduleQuerySerializer,
    CompositeScheduleResultSerializer,
    ConfigurationChangeResultSerializer,
    ConfigurationChangeSerializer,
    ConfigurationQuerySerializer,
    ConfigurationResultSerializer,
    DataTransferSerializer,
    DisplayMessageSerializer,
    FirmwareUpdateSerializer,
    LocalListSerializer,
    LocalListVersionResultSerializer,
    LogsUploadSerializer,
    MessageLimitsSerializer,
    MessageLogSerializer,
    RawCallResultSerializer,
    RawCallSerializer,
    RemoteStartResultSerializer,
    RemoteStartSerializer,
    RemoteStopSerializer,
    ReservationResultSerializer,
    ReserveSerializer,
    ResetSerializer,
    StationEventSerializer,
    TriggerMessageSerializer,
    UnlockSerializer,
)

COMMAND = "stations.command"
CONFIGURE = "stations.configure"
RAW = "ocpp.raw_call"


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
        "rotate_password": CONFIGURE,
        "message_limits": CONFIGURE,
        "ocpp_call": RAW,
        "reserve": COMMAND,
        "cancel_reservation": COMMAND,
        "charging_profile": COMMAND,
        "clear_charging_profile": COMMAND,
        "composite_schedule": COMMAND,
        "local_list_version": COMMAND,
        "local_list": COMMAND,
        "upload_logs": COMMAND,
        "update_firmware": COMMAND,
        "display_message": COMMAND,
        "display_messages": COMMAND,
        "clear_display_message": COMMAND,
        "data_transfer": COMMAND,
        "report": CONFIGURE,
    }

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _requester(self) -> commands.Requester:
        return commands.Requester(
            actor=self.actor, source=AuditSource.API, ip=client_ip(self.request)
        )

    @staticmethod
    def _answered(reply: commands.CommandReply) -> commands.CommandReply:
        reply.raise_error()
        return reply

    def _status(self, reply: commands.CommandReply) -> Response:
        self._answered(reply)
        return Response({"status": reply.payload.get("status", ""), "response": reply.payload})

    # --- commands -----------------------------------------------------------------------------
    @extend_schema(request=RemoteStartSerializer, responses=RemoteStartResultSerializer)
    @action(detail=True, methods=["post"], url_path="remote-start")
    def remote_start(self, request, pk=None):
        """Start charging on a port.  Answers as soon as the station accepts or refuses; the
        session appears in the session list (and on the command's audit entry, ``command_id``)
        when the station starts it."""
        station = self.get_object()
        data = self._input(RemoteStartSerializer)
        if not station.evses.filter(evse_id=data["evse_id"]).exists():
            raise drf_serializers.ValidationError({"evse_id": [_("No such port.")]})
        reply = self._answered(
            commands.session_remote_start(requester=self._requester(), station=station, **data)
        )
        return Response(
            {
                "status": reply.status,
                "command_id": reply.audit_id,
                "remote_start_id": reply.remote_start_id,
            }
        )

    @extend_schema(request=RemoteStopSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="remote-stop")
    def remote_stop(self, request, pk=None):
        """Stop an active session of this station."""
        station = self.get_object()
        data = self._input(RemoteStopSerializer)
        session = (
            ChargingSession.objects.select_related("station", "station__site")
            .filter(station=station, pk=data["session_id"])
            .first()
        )
        if session is None:
            raise drf_serializers.ValidationError(
                {"session_id": [_("No such session on this station.")]}
            )
        if session.status != SessionStatus.ACTIVE:
            raise Conflict(_("The session has already ended."))
        return self._status(
            commands.session_remote_stop(requester=self._requester(), session=session)
        )

    @extend_schema(request=ResetSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"])
    def reset(self, request, pk=None):
        """Reboot the station: soft (when idle) or hard (at once)."""
        station = self.get_object()
        data = self._input(ResetSerializer)
        return self._status(
            commands.station_reset(requester=self._requester(), station=station, **data)
        )

    @extend_schema(request=UnlockSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        """Release the cable locked in a port."""
        station = self.get_object()
        data = self._input(UnlockSerializer)
        return self._status(
            commands.station_unlock(requester=self._requester(), station=station, **data)
        )

    @extend_schema(request=AvailabilitySerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"])
    def availability(self, request, pk=None):
        """Make the station, or one port, available (operative) or unavailable."""
        station = self.get_object()
        data = self._input(AvailabilitySerializer)
        return self._status(
            commands.station_availability(
                requester=self._requester(),
                station=station,
                operative=data["operative"],
                evse_id=data.get("evse_id"),
            )
        )

    @extend_schema(request=TriggerMessageSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="trigger-message")
    def trigger_message(self, request, pk=None):
        """Ask the station to send a message now (StatusNotification, MeterValues...)."""
        station = self.get_object()
        data = self._input(TriggerMessageSerializer)
        return self._status(
            commands.station_trigger_message(
                requester=self._requester(),
                station=station,
                message=data["message"],
                evse_id=data.get("evse_id"),
            )
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
        keys = query.validated_data["key"]
        try:
            reply = commands.station_configuration_read(
                requester=self._requester(), station=station, keys=keys
            )
        except payloads.BadKey as error:
            raise drf_serializers.ValidationError({"key": [str(error)]}) from None
        self._answered(reply)
        values = payloads.configuration_values(station.ocpp_version, reply.payload, keys=keys)
        return Response({**values.as_dict(), "response": reply.payload})

    @extend_schema(
        request=ConfigurationChangeSerializer, responses=ConfigurationChangeResultSerializer
    )
    @configuration.mapping.post
    def change_configuration(self, request, pk=None):
        """Change configuration keys (1.6 ChangeConfiguration, one per key) or variables
        (2.0.1 SetVariables).  Each key answers Accepted, Rejected, RebootRequired..."""
        station = self.get_object()
        changes = self._input(ConfigurationChangeSerializer)["changes"]
        try:
            reply = commands.station_configuration_change(
                requester=self._requester(), station=station, changes=changes
            )
        except payloads.BadKey as error:
            raise drf_serializers.ValidationError({"changes": [str(error)]}) from None
        self._answered(reply)
        answers = reply.payload if isinstance(reply.payload, list) else [reply.payload]
        return Response({"results": reply.rows, "response": answers})

    @extend_schema(request=None, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-password")
    def rotate_password(self, request, pk=None):
        """Give the station a new strong Basic-auth password (1.6 AuthorizationKey, 2.0.1
        SecurityCtrlr.BasicAuthPassword).  The old one works until the station logs in with
        the new one; a station that refuses keeps the old one.  The password is not shown."""
        station = self.get_object()
        reply = self._answered(
            commands.station_password_rotate(requester=self._requester(), station=station)
        )
        return Response({"status": reply.status, "response": reply.payload})

    @extend_schema(request=MessageLimitsSerializer, responses=MessageLimitsSerializer)
    @action(detail=True, methods=["get", "put"], url_path="message-limits")
    def message_limits(self, request, pk=None):
        """OCPP 2.0.1 stations: how many items (and bytes) one GetVariables, SetVariables or
        GetReport may hold, as the station reported it and as overridden here; every request
        is split to fit."""
        station = self.get_object()
        if request.method == "PUT":
            data = self._input(MessageLimitsSerializer)
            ocpp_services.message_limits_override(
                station_id=station.pk, overrides=data["overrides"]
            )
        limits = station_message_limits(station_id=station.pk)
        return Response(
            {
                "reported": limits.reported,
                "overrides": limits.overrides,
                "effective": limits.effective,
            }
        )

    @extend_schema(request=RawCallSerializer, responses=RawCallResultSerializer)
    @action(detail=True, methods=["post"], url_path="ocpp-call")
    def ocpp_call(self, request, pk=None):
        """Send any OCPP action of the station's version with a raw payload, validated against
        the action's JSON schema before it is sent (for operators and site admins)."""
        station = self.get_object()
        data = self._input(RawCallSerializer)
        reply = self._answered(
            commands.station_ocpp_call(
                requester=self._requester(),
                station=station,
                action=data["action"],
                payload=data["payload"],
                timeout=data.get("timeout"),
            )
        )
        return Response({"response": reply.payload})

    # --- reservations, power limits, local list, logs, firmware, screen, vendor data -----------
    @staticmethod
    def _needs_201(station) -> None:
        if station.ocpp_version != payloads.V201:
            raise Conflict(_("This is an OCPP 2.0.1 command; the station speaks 1.6."))

    def _port(self, station, evse_id: int | None) -> None:
        if evse_id and not station.evses.filter(evse_id=evse_id).exists():
            raise drf_serializers.ValidationError({"evse_id": [_("No such port.")]})

    @extend_schema(request=ReserveSerializer, responses=ReservationResultSerializer)
    @action(detail=True, methods=["post"])
    def reserve(self, request, pk=None):
        """Hold a port for a token until ``expires_at`` (ReserveNow).  Cancel it with the
        ``reservation_id`` answered."""
        station = self.get_object()
        data = dict(self._input(ReserveSerializer))
        self._port(station, data["evse_id"])
        data.setdefault("reservation_id", secrets.randbelow(2**31 - 2) + 1)
        reply = self._answered(
            commands.reservation_reserve_now(requester=self._requester(), station=station, **data)
        )
        return Response(
            {
                "status": reply.status,
                "reservation_id": data["reservation_id"],
                "response": reply.payload,
            }
        )

    @extend_schema(request=CancelReservationSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="cancel-reservation")
    def cancel_reservation(self, request, pk=None):
        """Cancel a reservation (CancelReservation)."""
        station = self.get_object()
        data = self._input(CancelReservationSerializer)
        return self._status(
            commands.reservation_cancel(requester=self._requester(), station=station, **data)
        )

    @extend_schema(request=ChargingProfileSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="charging-profile")
    def charging_profile(self, request, pk=None):
        """Set a station cap or the default limit of new sessions: an absolute schedule of
        periods (seconds from ``starts_at``, limit), limits rounded down to 0.1."""
        station = self.get_object()
        data = self._input(ChargingProfileSerializer)
        self._port(station, data["evse_id"])
        return self._status(
            commands.station_charging_profile_set(
                requester=self._requester(),
                station=station,
                purpose=data["purpose"],
                evse_id=data["evse_id"],
                unit=data["unit"],
                periods=[(p["start_seconds"], float(p["limit"])) for p in data["periods"]],
                stack_level=data["stack_level"],
                starts_at=data.get("starts_at"),
            )
        )

    @extend_schema(request=ClearChargingProfileSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="clear-charging-profile")
    def clear_charging_profile(self, request, pk=None):
        """Clear charging profiles by id, or by port, purpose and stack level (none: all)."""
        station = self.get_object()
        data = self._input(ClearChargingProfileSerializer)
        return self._status(
            commands.station_charging_profile_clear(
                requester=self._requester(), station=station, **data
            )
        )

    @extend_schema(
        parameters=[CompositeScheduleQuerySerializer], responses=CompositeScheduleResultSerializer
    )
    @action(detail=True, methods=["get"], url_path="composite-schedule")
    def composite_schedule(self, request, pk=None):
        """The limits the station will really apply on a port (GetCompositeSchedule)."""
        station = self.get_object()
        query = CompositeScheduleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        self._port(station, query.validated_data["evse_id"])
        reply = self._answered(
            commands.station_composite_schedule(
                requester=self._requester(), station=station, **query.validated_data
            )
        )
        periods = [{k: v for k, v in row.items() if k != "peak"} for row in reply.rows]
        return Response(
            {
                "status": reply.payload.get("status", ""),
                "periods": periods,
                "response": reply.payload,
            }
        )

    @extend_schema(request=None, responses=LocalListVersionResultSerializer)
    @action(detail=True, methods=["get"], url_path="local-list-version")
    def local_list_version(self, request, pk=None):
        """The version of the station's local authorisation list (GetLocalListVersion)."""
        station = self.get_object()
        reply = self._answered(
            commands.station_local_list_version(requester=self._requester(), station=station)
        )
        number = reply.payload.get("listVersion", reply.payload.get("versionNumber"))
        return Response(
            {"version": number if isinstance(number, int) else None, "response": reply.payload}
        )

    @extend_schema(request=LocalListSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="local-list")
    def local_list(self, request, pk=None):
        """Replace (``full``) or update the station's local authorisation list."""
        station = self.get_object()
        data = self._input(LocalListSerializer)
        if not data["full"] and not data["entries"]:
            raise drf_serializers.ValidationError({"entries": [_("Name the tokens to change.")]})
        return self._status(
            commands.station_local_list_send(
                requester=self._requester(),
                station=station,
                list_version=data["list_version"],
                full=data["full"],
                entries=[(e["id_token"], e["status"]) for e in data["entries"]],
            )
        )

    @extend_schema(request=LogsUploadSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="upload-logs")
    def upload_logs(self, request, pk=None):
        """Ask the station to upload its diagnostics (1.6) or logs (2.0.1) to ``location``;
        progress arrives as station events."""
        station = self.get_object()
        data = self._input(LogsUploadSerializer)
        return self._status(
            commands.station_logs_upload(requester=self._requester(), station=station, **data)
        )

    @extend_schema(request=FirmwareUpdateSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="update-firmware")
    def update_firmware(self, request, pk=None):
        """Ask this one station to download and install a firmware (for a fleet: campaigns)."""
        from django.utils import timezone

        station = self.get_object()
        data = self._input(FirmwareUpdateSerializer)
        return self._status(
            commands.station_update_firmware(
                requester=self._requester(),
                station=station,
                location=data["location"],
                retrieve_at=data.get("retrieve_at") or timezone.now(),
                request_id=secrets.randbelow(2**31 - 2) + 1,
                retries=data.get("retries"),
                retry_interval=data.get("retry_interval"),
            )
        )

    @extend_schema(request=DisplayMessageSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="display-message")
    def display_message(self, request, pk=None):
        """Show a message on the station's screen (2.0.1 SetDisplayMessage)."""
        station = self.get_object()
        self._needs_201(station)
        data = self._input(DisplayMessageSerializer)
        return self._status(
            commands.station_display_message(requester=self._requester(), station=station, **data)
        )

    @extend_schema(request=None, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="display-messages")
    def display_messages(self, request, pk=None):
        """Ask the station what its screen shows (2.0.1 GetDisplayMessages; the messages
        arrive in NotifyDisplayMessages, in the OCPP log)."""
        station = self.get_object()
        self._needs_201(station)
        return self._status(
            commands.station_display_messages_get(requester=self._requester(), station=station)
        )

    @extend_schema(request=ClearDisplayMessageSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="clear-display-message")
    def clear_display_message(self, request, pk=None):
        """Remove a message from the station's screen (2.0.1 ClearDisplayMessage)."""
        station = self.get_object()
        self._needs_201(station)
        data = self._input(ClearDisplayMessageSerializer)
        return self._status(
            commands.station_display_message_clear(
                requester=self._requester(), station=station, **data
            )
        )

    @extend_schema(request=DataTransferSerializer, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="data-transfer")
    def data_transfer(self, request, pk=None):
        """A vendor-specific DataTransfer (both versions)."""
        station = self.get_object()
        data = self._input(DataTransferSerializer)
        return self._status(
            commands.station_data_transfer(requester=self._requester(), station=station, **data)
        )

    @extend_schema(request=None, responses=CommandResultSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        """2.0.1: ask for the station's full report (GetBaseReport FullInventory); its parts
        arrive as station events (``/api/v1/station-events/?kind=report``)."""
        station = self.get_object()
        self._needs_201(station)
        return self._status(
            commands.station_report_request(requester=self._requester(), station=station)
        )


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
