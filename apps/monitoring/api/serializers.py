from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Alert


class AlertSerializer(serializers.ModelSerializer):
    station_identity = serializers.CharField(source="station.identity", read_only=True)
    site = serializers.IntegerField(
        source="station.site_id", read_only=True, allow_null=True, help_text=_("Site (id)")
    )
    evse_id = serializers.SerializerMethodField(help_text=_("Port number; null: the station"))
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "severity",
            "station",
            "station_identity",
            "site",
            "evse_id",
            "message",
            "error_code",
            "raised_at",
            "cleared_at",
            "is_open",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_by",
            "note",
        ]

    def get_evse_id(self, alert: Alert) -> int | None:
        return alert.evse.evse_id if alert.evse_id else None


class AlertActionSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Why, or what is being done (kept on the alert)"),
    )


# --- Bulk commands (issue 13: the API of the portal's bulk actions) --------------------------
class BulkProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text=_("Stations of the job the caller may see"))
    done = serializers.IntegerField()
    ok = serializers.IntegerField()
    failed = serializers.IntegerField()


class BulkCommandSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    command = serializers.CharField(help_text=_("reset, availability, configuration, firmware"))
    arguments = serializers.JSONField()
    status = serializers.CharField(help_text=_("pending, running, done"))
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    sites = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Sites (ids) of the job's stations that the caller may see"),
    )
    progress = BulkProgressSerializer()


class BulkCommandItemSerializer(serializers.Serializer):
    station = serializers.IntegerField(source="station_id")
    station_identity = serializers.CharField(source="station.identity")
    site = serializers.IntegerField(source="station.site_id", allow_null=True)
    status = serializers.CharField(help_text=_("pending, ok, failed"))
    answer = serializers.CharField(help_text=_("The station's answer, or the error's name"))
    message = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)


class BulkCommandInputSerializer(serializers.Serializer):
    COMMANDS = ("reset", "availability", "configuration", "firmware")

    command = serializers.ChoiceField(choices=COMMANDS)
    arguments = serializers.JSONField(
        help_text=_(
            'reset: {"kind": "soft"|"hard"}; availability: {"operative": true|false}; '
            'configuration: {"key": ..., "value": ...}; firmware: {"location": URL}'
        )
    )
    stations = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=5000,
        help_text=_("Station ids; or give filter"),
    )
    filter = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text=_('The station list\'s filters, as its query parameters: {"tag": "fleet"}'),
    )

    def validate(self, data):
        if bool(data.get("stations")) == bool(data.get("filter")):
            raise serializers.ValidationError(
                {"stations": [_("Give either stations (ids) or filter, not both.")]}
            )
        return data
