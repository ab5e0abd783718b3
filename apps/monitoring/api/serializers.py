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
