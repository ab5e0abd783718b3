from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..capacity import MAX_EXTRA

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


def _kw(help_text: str = "", **kwargs):
    return serializers.DecimalField(
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100000"),
        required=False,
        help_text=help_text,
        **kwargs,
    )


class CapacityQuerySerializer(PeriodSerializer):
    """The planner's question (powers in kW); the history defaults to the last 90 days."""

    limit_kw = _kw(_("The panel or circuit; default: the existing ports' combined power."))
    other_kw = _kw(_("The building's other loads on it (default 0)."))
    port_kw = _kw(_("A new port's power (default 7.4)."))
    min_kw = _kw(_("The least power a session keeps, 6 A (default 1.38)."))
    wanted_ports = serializers.IntegerField(required=False, min_value=0, max_value=MAX_EXTRA)
    tolerance = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        required=False,
        help_text=_("Busy quarter hours (%) allowed to make a session wait (default 5)."),
    )

    def validate(self, attrs):
        if "start" not in attrs and "end" in attrs:
            attrs["start"] = attrs["end"] - dt.timedelta(days=90)
        elif "start" not in attrs:
            attrs["start"] = timezone.localdate() + dt.timedelta(days=1 - 90)
        period = super().validate(attrs)
        if attrs.get("min_kw") == 0:
            raise serializers.ValidationError({"min_kw": _("A session needs some power.")})
        return {**attrs, **period}


class CapacityAssumptionsSerializer(serializers.Serializer):
    limit_w = serializers.IntegerField()
    other_load_w = serializers.IntegerField()
    room_w = serializers.IntegerField()
    existing_ports = serializers.IntegerField()
    port_w = serializers.IntegerField()
    min_w = serializers.IntegerField()
    tolerance_percent = serializers.DecimalField(max_digits=4, decimal_places=1)
    wanted_ports = serializers.IntegerField()


class CapacityOptionSerializer(serializers.Serializer):
    extra_ports = serializers.IntegerField()
    fits = serializers.BooleanField()
    peak_demand_w = serializers.IntegerField()
    energy_per_session_wh = serializers.IntegerField(allow_null=True)
    wait_minutes_per_session = serializers.DecimalField(
        max_digits=9, decimal_places=1, allow_null=True
    )
    waiting_quarters = serializers.IntegerField()
    busy_quarters = serializers.IntegerField()
    curtailed_quarters = serializers.IntegerField()
    needed_limit_w = serializers.IntegerField()


class CapacityProfileSerializer(serializers.Serializer):
    time = serializers.CharField(help_text=_("Local time of day, HH:MM."))
    actual_peak_w = serializers.IntegerField()
    simulated_peak_w = serializers.IntegerField()
    simulated_mean_w = serializers.IntegerField()


class CapacityPlanSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    quarters = serializers.IntegerField(help_text=_("Quarter hours of history with data."))
    ports_that_fit = serializers.IntegerField()
    needs_upgrade = serializers.BooleanField()
    assumptions = CapacityAssumptionsSerializer()
    wanted = CapacityOptionSerializer(allow_null=True)
    options = CapacityOptionSerializer(many=True)
    profile = CapacityProfileSerializer(many=True)


class BreakdownRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True,
        help_text=_(
            "The band (duration, idle time), the group's or vehicle's id; null: the sessions "
            "of no group, or of an unknown vehicle."
        ),
    )
    label = serializers.CharField()
    sessions = serializers.IntegerField()
    energy_wh = serializers.IntegerField()
    energy_per_session_wh = serializers.IntegerField(allow_null=True)
    average_minutes = serializers.IntegerField(
        allow_null=True, help_text=_("Plugged in: start to end.")
    )
    average_idle_minutes = serializers.IntegerField(
        allow_null=True, help_text=_("Plugged in after energy stopped flowing.")
    )


class BreakdownsSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    by_duration = BreakdownRowSerializer(many=True)
    by_idle = BreakdownRowSerializer(many=True)
    by_group = BreakdownRowSerializer(
        many=True, help_text=_("A session counts in each group of its token.")
    )
    by_vehicle = BreakdownRowSerializer(
        many=True, allow_null=True, help_text=_("Null when no fleet app answers.")
    )


class SummaryQuerySerializer(PeriodSerializer):
    """The period, and what the summary's table lists (default: the site's stations)."""

    rows = serializers.ChoiceField(
        choices=[("station", _("Station")), ("port", _("Port"))],
        required=False,
        default="station",
    )

    def validate(self, attrs):
        return {**super().validate(attrs), "rows": attrs.get("rows", "station")}
