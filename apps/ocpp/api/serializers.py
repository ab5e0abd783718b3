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
