from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_DAYS = 3 * 366


class PeriodSerializer(serializers.Serializer):
    """Days [start, end) in each site's calendar (default: the last 30 days)."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False, help_text=_("Excluded."))

    def validate(self, attrs):
        end = attrs.get("end") or timezone.localdate() + dt.timedelta(days=1)
        start = attrs.get("start") or end - dt.timedelta(days=30)
        if start >= end:
            raise serializers.ValidationError({"end": _("The end must be after the start.")})
        if (end - start).days > MAX_DAYS:
            raise serializers.ValidationError({"start": _("At most three years at a time.")})
        return {"start": start, "end": end}


class MeasuresSerializer(serializers.Serializer):
    energy_wh = serializers.IntegerField()
    peak_power_w = serializers.IntegerField(allow_null=True)
    seconds_total = serializers.IntegerField()
    seconds_available = serializers.IntegerField()
    seconds_charging = serializers.IntegerField()
    seconds_finished = serializers.IntegerField()
    seconds_reserved = serializers.IntegerField()
    seconds_faulted = serializers.IntegerField()
    seconds_unavailable = serializers.IntegerField()
    seconds_offline = serializers.IntegerField()
    seconds_occupied = serializers.IntegerField()
    sessions_started = serializers.IntegerField()
    sessions_ended = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=14, decimal_places=4)
    uptime_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    utilisation_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    occupancy_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    energy_per_session_wh = serializers.IntegerField(allow_null=True)


class _ReportRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    measures = MeasuresSerializer()
    previous = MeasuresSerializer(help_text=_("The same number of days just before."))


class SiteReportSerializer(_ReportRowSerializer):
    site = serializers.IntegerField()


class StationReportSerializer(_ReportRowSerializer):
    station = serializers.IntegerField()
    site = serializers.IntegerField(allow_null=True)


class PortReportSerializer(_ReportRowSerializer):
    evse = serializers.IntegerField()
    station = serializers.IntegerField()


class QuarterSerializer(serializers.Serializer):
    bucket = serializers.DateTimeField()
    energy_wh = serializers.IntegerField()
    peak_power_w = serializers.IntegerField(allow_null=True)
    average_power_w = serializers.IntegerField()


class LoadProfileSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    quarters = QuarterSerializer(many=True)
