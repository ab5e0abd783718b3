from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import User
from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.api.permissions import actor_of
from apps.stations.models import Site

from .. import selectors
from ..choices import CardKind
from ..models import Fleet, FleetCard, TelemetryReading, Vehicle, VehicleSession
from ..vin import validate_vin


class FleetField(ScopedPrimaryKeyRelatedField):
    """A fleet the caller may manage: restricted by site, then to the fleets they manage."""

    def get_queryset(self):
        return selectors.scope_queryset(super().get_queryset(), actor_of(self.context["request"]))


class FleetSerializer(serializers.ModelSerializer):
    vehicles = serializers.IntegerField(source="vehicle_count", read_only=True)

    class Meta:
        model = Fleet
        fields = ["id", "name", "description", "site", "managers", "vehicles", "created_at"]


class FleetInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=300, allow_blank=True, default="")
    site = ScopedPrimaryKeyRelatedField(permission="fleet.manage", queryset=Site.objects.all())
    managers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), default=list
    )


class FleetSecretSerializer(serializers.Serializer):
    telematics_secret = serializers.CharField()
    signature_header = serializers.CharField()


class VehicleSerializer(serializers.ModelSerializer):
    site = serializers.IntegerField(source="fleet.site_id", read_only=True)

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "fleet",
            "site",
            "make",
            "model",
            "battery_kwh",
            "vin",
            "plate",
            "depot",
            "is_active",
            "soc_percent",
            "odometer_km",
            "telemetry_at",
            "created_at",
        ]


class VehicleInputSerializer(serializers.Serializer):
    fleet = FleetField(permission="fleet.manage", queryset=Fleet.objects.all())
    make = serializers.CharField(max_length=60)
    model = serializers.CharField(max_length=60)
    battery_kwh = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=1)
    vin = serializers.CharField(max_length=17, validators=[validate_vin])
    plate = serializers.CharField(max_length=20, allow_blank=True, default="")
    depot = ScopedPrimaryKeyRelatedField(
        permission="fleet.view", queryset=Site.objects.all(), allow_null=True, default=None
    )
    is_active = serializers.BooleanField(default=True)

    def validate_vin(self, value: str) -> str:
        value = value.upper()
        others = Vehicle.objects.filter(vin=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(_("A vehicle with this VIN exists."))
        return value


class FleetCardSerializer(serializers.ModelSerializer):
    uid = serializers.CharField(source="token.uid", read_only=True)
    token = serializers.IntegerField(source="token_id", read_only=True)
    is_active = serializers.BooleanField(source="token.is_active", read_only=True)
    site = serializers.IntegerField(source="fleet.site_id", read_only=True)

    class Meta:
        model = FleetCard
        fields = [
            "id",
            "uid",
            "token",
            "is_active",
            "fleet",
            "site",
            "kind",
            "vehicle",
            "driver_name",
            "driver",
            "created_at",
        ]


class FleetCardInputSerializer(serializers.Serializer):
    fleet = FleetField(permission="fleet.manage", queryset=Fleet.objects.all())
    uid = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=CardKind.choices, default=CardKind.RFID)
    vehicle = ScopedPrimaryKeyRelatedField(
        permission="fleet.manage", queryset=Vehicle.objects.all(), allow_null=True, default=None
    )
    driver_name = serializers.CharField(max_length=120, allow_blank=True, default="")


class FleetCardUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CardKind.choices, required=False)
    vehicle = ScopedPrimaryKeyRelatedField(
        permission="fleet.manage", queryset=Vehicle.objects.all(), allow_null=True, required=False
    )
    driver_name = serializers.CharField(max_length=120, allow_blank=True, required=False)


class UsageSerializer(serializers.ModelSerializer):
    transaction_id = serializers.CharField(source="session.transaction_id")
    ended_at = serializers.DateTimeField(source="session.ended_at")
    energy_wh = serializers.IntegerField(source="session.energy_wh")
    station = serializers.CharField(source="session.station.identity")
    card = serializers.CharField(source="session.id_token")
    site = serializers.IntegerField(source="fleet.site_id", read_only=True)

    class Meta:
        model = VehicleSession
        fields = [
            "id",
            "session",
            "transaction_id",
            "fleet",
            "site",
            "vehicle",
            "card",
            "driver_name",
            "station",
            "started_at",
            "ended_at",
            "energy_wh",
        ]


class UsageSummarySerializer(serializers.Serializer):
    sessions = serializers.IntegerField()
    energy_wh = serializers.IntegerField()
    totals = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))
    unpriced = serializers.IntegerField()
    stations = serializers.ListField(child=serializers.CharField())
    first = serializers.DateTimeField(allow_null=True)
    last = serializers.DateTimeField(allow_null=True)


class PeriodQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    file = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": _("The end is not after the start.")})
        return attrs


class TableQuerySerializer(serializers.Serializer):
    file = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")


class TelemetrySerializer(serializers.ModelSerializer):
    site = serializers.IntegerField(source="vehicle.fleet.site_id", read_only=True)

    class Meta:
        model = TelemetryReading
        fields = ["id", "vehicle", "site", "recorded_at", "soc_percent", "odometer_km", "source"]


class TelemetryInputSerializer(serializers.Serializer):
    recorded_at = serializers.DateTimeField()
    soc_percent = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=0, max_value=100, required=False, allow_null=True
    )
    odometer_km = serializers.DecimalField(
        max_digits=9, decimal_places=1, min_value=0, required=False, allow_null=True
    )

    def validate(self, attrs):
        if attrs.get("soc_percent") is None and attrs.get("odometer_km") is None:
            raise serializers.ValidationError(
                _("A reading has a state of charge or an odometer value.")
            )
        return attrs


class FleetImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    keep_good = serializers.BooleanField(default=False)
    dry_run = serializers.BooleanField(default=False)


class FleetImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class FleetImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    good = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    imported = serializers.BooleanField()
    errors = FleetImportRowErrorSerializer(many=True)
