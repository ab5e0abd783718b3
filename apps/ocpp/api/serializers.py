from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import MessageLog, StationEvent
from ..payloads import LIMIT_KEYS


# --- What the log shows ----------------------------------------------------------------------
class MessageLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageLog
        fields = [
            "id",
            "station",
            "direction",
            "message_type",
            "unique_id",
            "action",
            "payload",
            "created_at",
        ]


class StationEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = StationEvent
        fields = ["id", "station", "kind", "action", "status", "request_id", "data", "occurred_at"]


# --- Command inputs --------------------------------------------------------------------------
class RemoteStartSerializer(serializers.Serializer):
    evse_id = serializers.IntegerField(min_value=1, help_text=_("Port number"))
    id_token = serializers.CharField(max_length=36, help_text=_("The token to charge with"))
    token_type = serializers.CharField(
        max_length=20, default="Central", help_text=_("2.0.1 IdTokenEnumType (1.6: ignored)")
    )


class RemoteStopSerializer(serializers.Serializer):
    session_id = serializers.IntegerField(help_text=_("An active session of this station"))


class ResetSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[("soft", _("Soft (1.6 Soft, 2.0.1 OnIdle)")), ("hard", _("Hard (Immediate)"))],
        default="soft",
    )


class UnlockSerializer(serializers.Serializer):
    evse_id = serializers.IntegerField(min_value=1)
    connector_id = serializers.IntegerField(min_value=1, default=1)


class AvailabilitySerializer(serializers.Serializer):
    operative = serializers.BooleanField()
    evse_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text=_("Omit for the whole station")
    )


class TriggerMessageSerializer(serializers.Serializer):
    message = serializers.CharField(
        max_length=40, help_text=_("e.g. StatusNotification, MeterValues, Heartbeat")
    )
    evse_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class ConfigurationQuerySerializer(serializers.Serializer):
    key = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        default=list,
        help_text=_("1.6 key names, or 2.0.1 Component/Variable[/Instance]; 1.6: none = all"),
    )


class ConfigurationChangeItemSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=150)
    value = serializers.CharField(max_length=1000, allow_blank=True)
    evse_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class ConfigurationChangeSerializer(serializers.Serializer):
    changes = ConfigurationChangeItemSerializer(many=True, allow_empty=False)


class RawCallSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=64, help_text=_("An OCPP action of the version"))
    payload = serializers.JSONField(help_text=_("Validated against the action's JSON schema"))
    timeout = serializers.FloatField(min_value=1, max_value=120, required=False)


# --- Command answers -------------------------------------------------------------------------
class CommandResultSerializer(serializers.Serializer):
    status = serializers.CharField(help_text=_("The station's answer (Accepted, Rejected...)"))
    response = serializers.JSONField(help_text=_("The station's full answer"))


class RemoteStartResultSerializer(serializers.Serializer):
    status = serializers.CharField(help_text=_("The station's answer: Accepted or Rejected"))
    command_id = serializers.IntegerField(
        help_text=_(
            "The command's audit entry (/api/v1/audit-log/{id}/): its outcome, and the "
            "session once the station starts it"
        )
    )
    remote_start_id = serializers.IntegerField(
        allow_null=True,
        help_text=_("2.0.1: the sessions list's remote_start_id of the session it starts"),
    )


class ConfigurationValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(allow_null=True)
    readonly = serializers.BooleanField(allow_null=True)
    status = serializers.CharField(allow_null=True)


class ConfigurationResultSerializer(serializers.Serializer):
    values = ConfigurationValueSerializer(many=True)
    unknown = serializers.ListField(child=serializers.CharField())
    response = serializers.JSONField()


class ConfigurationChangeResultItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    status = serializers.CharField(allow_null=True)


class ConfigurationChangeResultSerializer(serializers.Serializer):
    results = ConfigurationChangeResultItemSerializer(many=True)
    response = serializers.JSONField()


class RawCallResultSerializer(serializers.Serializer):
    response = serializers.JSONField()


# --- Message limits (2.0.1 B06-B08) ----------------------------------------------------------
class MessageLimitsSerializer(serializers.Serializer):
    """A station's ItemsPerMessage / BytesPerMessage per request: as it reported them, the
    overrides in its settings (which win), and what requests are split to."""

    reported = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    overrides = serializers.DictField(
        child=serializers.IntegerField(min_value=1, allow_null=True),
        help_text=_(
            "ItemsPerMessage/GetVariables, BytesPerMessage/SetVariables ... (null removes one)"
        ),
    )
    effective = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    def validate_overrides(self, value):
        unknown = sorted(set(value) - set(LIMIT_KEYS))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown limits: %(keys)s (known: %(known)s)")
                % {"keys": ", ".join(unknown), "known": ", ".join(LIMIT_KEYS)}
            )
        return value


# --- Reservations, power limits, local list, logs, firmware, screen, vendor data -------------
class ReserveSerializer(serializers.Serializer):
    evse_id = serializers.IntegerField(min_value=1, help_text=_("Port number"))
    id_token = serializers.CharField(max_length=36, help_text=_("The token the port is held for"))
    expires_at = serializers.DateTimeField(help_text=_("When the hold ends (ISO 8601)"))
    reservation_id = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("Default: a new number (returned); the same number replaces a reservation"),
    )
    token_type = serializers.CharField(max_length=20, default="ISO14443")

    def validate_expires_at(self, value):
        from django.utils import timezone

        if value <= timezone.now():
            raise serializers.ValidationError(_("Give a time in the future."))
        return value


class CancelReservationSerializer(serializers.Serializer):
    reservation_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class ReservationResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    reservation_id = serializers.IntegerField()
    response = serializers.JSONField()


class SchedulePeriodSerializer(serializers.Serializer):
    start_seconds = serializers.IntegerField(min_value=0, help_text=_("From the schedule's start"))
    limit = serializers.DecimalField(max_digits=10, decimal_places=1, min_value=0)


class ChargingProfileSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(
        choices=[
            ("station_max", _("A cap on the whole station (evse_id 0)")),
            ("tx_default", _("The default for new sessions (evse_id 0: every port)")),
        ]
    )
    evse_id = serializers.IntegerField(min_value=0, default=0)
    unit = serializers.ChoiceField(choices=[("A", _("amps per phase")), ("W", _("watts"))])
    periods = SchedulePeriodSerializer(many=True, allow_empty=False)
    stack_level = serializers.IntegerField(min_value=0, max_value=99, default=0)
    starts_at = serializers.DateTimeField(required=False, help_text=_("Default: now"))

    def validate(self, data):
        if data["purpose"] == "station_max" and data["evse_id"]:
            raise serializers.ValidationError(
                {"evse_id": [_("A station cap applies to the whole station (0).")]}
            )
        starts = sorted(period["start_seconds"] for period in data["periods"])
        if starts[0] != 0:
            raise serializers.ValidationError({"periods": [_("The first period starts at 0.")]})
        if len(set(starts)) != len(starts):
            raise serializers.ValidationError({"periods": [_("Two periods start together.")]})
        return data


class ClearChargingProfileSerializer(serializers.Serializer):
    profile_id = serializers.IntegerField(min_value=1, required=False)
    purpose = serializers.ChoiceField(choices=["station_max", "tx_default"], required=False)
    evse_id = serializers.IntegerField(min_value=0, required=False)
    stack_level = serializers.IntegerField(min_value=0, required=False)


class CompositeScheduleQuerySerializer(serializers.Serializer):
    evse_id = serializers.IntegerField(
        min_value=0, default=0, help_text=_("0 (default): the whole station")
    )
    duration = serializers.IntegerField(
        min_value=1, max_value=7 * 86400, default=3600, help_text=_("Seconds (default 3600)")
    )
    unit = serializers.ChoiceField(choices=["A", "W"], required=False)


class CompositePeriodSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.IntegerField()
    limit = serializers.FloatField()
    unit = serializers.CharField()
    phases = serializers.IntegerField(allow_null=True)


class CompositeScheduleResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    periods = CompositePeriodSerializer(many=True)
    response = serializers.JSONField()


class LocalListVersionResultSerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True, help_text=_("None: it did not say"))
    response = serializers.JSONField()


class LocalListEntrySerializer(serializers.Serializer):
    id_token = serializers.CharField(max_length=20)
    status = serializers.ChoiceField(
        choices=["Accepted", "Blocked", "Expired", "Invalid", ""],
        default="Accepted",
        help_text=_("Empty in a differential update: remove the token from the list"),
    )


class LocalListSerializer(serializers.Serializer):
    list_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    full = serializers.BooleanField(help_text=_("Replace the whole list (else: add or change)"))
    entries = LocalListEntrySerializer(many=True, default=list)

    class Meta:
        ref_name = "SendLocalList"  # access has its own LocalList (a station's list state)


class LogsUploadSerializer(serializers.Serializer):
    location = serializers.URLField(max_length=512)
    since = serializers.DateTimeField(required=False, allow_null=True)
    until = serializers.DateTimeField(required=False, allow_null=True)
    log_type = serializers.ChoiceField(
        choices=["DiagnosticsLog", "SecurityLog"],
        default="DiagnosticsLog",
        help_text=_("2.0.1 only (1.6 GetDiagnostics has one kind)"),
    )


class FirmwareUpdateSerializer(serializers.Serializer):
    location = serializers.URLField(max_length=512)
    retrieve_at = serializers.DateTimeField(required=False, help_text=_("Default: now"))
    retries = serializers.IntegerField(min_value=0, max_value=10, required=False)
    retry_interval = serializers.IntegerField(min_value=0, required=False)


class DisplayMessageSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    text = serializers.CharField(max_length=512)
    priority = serializers.ChoiceField(
        choices=["NormalCycle", "InFront", "AlwaysFront"], default="NormalCycle"
    )
    language = serializers.CharField(max_length=8, required=False, allow_blank=True, default="")
    start = serializers.DateTimeField(required=False, allow_null=True)
    end = serializers.DateTimeField(required=False, allow_null=True)


class ClearDisplayMessageSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class DataTransferSerializer(serializers.Serializer):
    vendor_id = serializers.CharField(max_length=255)
    message_id = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    data = serializers.CharField(required=False, allow_blank=True, default="")
