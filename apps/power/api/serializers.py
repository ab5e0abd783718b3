from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.stations.models import Site

from ..choices import Lines, NodeKind
from ..models import EvseAllocation, LimitOverride, PowerAlert, PowerNode

AMPS = {"max_digits": 7, "decimal_places": 1}
KILOWATTS = {"max_digits": 10, "decimal_places": 3}


class PowerNodeSerializer(serializers.ModelSerializer):
    limit_a = serializers.DecimalField(
        read_only=True, help_text=_("Continuous limit per line: rating x factor."), **AMPS
    )

    class Meta:
        model = PowerNode
        fields = [
            "id",
            "site",
            "parent",
            "name",
            "kind",
            "lines",
            "voltage_v",
            "rating_a",
            "continuous_factor",
            "limit_a",
            "limit_kw",
            "demand_cap_kw",
            "fallback_load_kw",
            "created_at",
        ]


class PowerNodeUpdateSerializer(serializers.Serializer):
    parent = ScopedPrimaryKeyRelatedField(
        permission="power.manage", queryset=PowerNode.objects.all(), allow_null=True
    )
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=NodeKind.choices)
    lines = serializers.ChoiceField(choices=Lines.choices)
    voltage_v = serializers.IntegerField(min_value=100, max_value=1000)
    rating_a = serializers.DecimalField(min_value=Decimal(0), allow_null=True, **AMPS)
    continuous_factor = serializers.DecimalField(
        max_digits=3, decimal_places=2, min_value=Decimal("0.5"), max_value=Decimal("1")
    )
    limit_kw = serializers.DecimalField(min_value=Decimal(0), allow_null=True, **KILOWATTS)
    demand_cap_kw = serializers.DecimalField(min_value=Decimal(0), allow_null=True, **KILOWATTS)
    fallback_load_kw = serializers.DecimalField(min_value=Decimal(0), **KILOWATTS)


class PowerNodeCreateSerializer(PowerNodeUpdateSerializer):
    site = ScopedPrimaryKeyRelatedField(permission="power.manage", queryset=Site.objects.all())
    parent = ScopedPrimaryKeyRelatedField(
        permission="power.manage", queryset=PowerNode.objects.all(), allow_null=True, default=None
    )
    kind = serializers.ChoiceField(choices=NodeKind.choices, default=NodeKind.PANEL)
    lines = serializers.ChoiceField(choices=Lines.choices, default=Lines.THREE)
    voltage_v = serializers.IntegerField(min_value=100, max_value=1000, default=230)
    rating_a = serializers.DecimalField(min_value=Decimal(0), allow_null=True, default=None, **AMPS)
    continuous_factor = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("0.5"),
        max_value=Decimal("1"),
        default="0.80",
    )
    limit_kw = serializers.DecimalField(
        min_value=Decimal(0), allow_null=True, default=None, **KILOWATTS
    )
    demand_cap_kw = serializers.DecimalField(
        min_value=Decimal(0), allow_null=True, default=None, **KILOWATTS
    )
    fallback_load_kw = serializers.DecimalField(min_value=Decimal(0), default="0", **KILOWATTS)


class LimitOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = LimitOverride
        fields = [
            "id",
            "node",
            "limit_a",
            "limit_kw",
            "starts_at",
            "ends_at",
            "source",
            "reference",
            "note",
            "created_at",
        ]


class LimitInputSerializer(serializers.Serializer):
    """A temporary limit on a node (a building-management system's or an operator's)."""

    limit_a = serializers.DecimalField(
        min_value=Decimal(0), required=False, allow_null=True, **AMPS
    )
    limit_kw = serializers.DecimalField(
        min_value=Decimal(0), required=False, allow_null=True, **KILOWATTS
    )
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, data):
        if data.get("limit_a") is None and data.get("limit_kw") is None:
            raise serializers.ValidationError(_("Give limit_a, limit_kw or both."))
        return data


class LoadReportSerializer(serializers.Serializer):
    load_w = serializers.IntegerField(
        min_value=Decimal(0), help_text=_("The building's other loads on this node now (W).")
    )
    at = serializers.DateTimeField(required=False, allow_null=True)


class LinesField(serializers.ListField):
    child = serializers.DecimalField(**AMPS)


class NodeLoadSerializer(serializers.Serializer):
    node = serializers.IntegerField()
    limit_a = serializers.DecimalField(allow_null=True, **AMPS)
    limit_kw = serializers.DecimalField(allow_null=True, **KILOWATTS)
    building_load_w = serializers.IntegerField()
    allocated_a = LinesField(help_text=_("Limits given to the EVSEs under the node, per line."))
    drawn_a = LinesField(help_text=_("What their vehicles were measured drawing, per line."))


class EvseAllocationSerializer(serializers.ModelSerializer):
    station = serializers.IntegerField(source="evse.station_id", read_only=True)
    limit_a = serializers.DecimalField(read_only=True, **AMPS)
    target_a = serializers.SerializerMethodField()
    pushed_a = serializers.SerializerMethodField()

    class Meta:
        model = EvseAllocation
        fields = [
            "id",
            "evse",
            "station",
            "session",
            "limit_a",
            "target_a",
            "reason",
            "node",
            "scheduled_at",
            "push_state",
            "pushed_a",
            "pushed_at",
            "last_error",
            "updated_at",
        ]

    def get_target_a(self, row) -> float:
        return row.target_da / 10

    def get_pushed_a(self, row) -> float | None:
        return None if row.pushed_da is None else row.pushed_da / 10


class PowerAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = PowerAlert
        fields = ["id", "station", "evse", "kind", "message", "created_at", "resolved_at"]
