from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.stations.models import Site

from .. import openadr
from ..choices import Opt
from ..limits import PowerNode
from ..models import DemandResponseEvent, EventNodeLimit, Ven

AMPS = {"max_digits": 7, "decimal_places": 1}
KILOWATTS = {"max_digits": 10, "decimal_places": 3}


class VenSerializer(serializers.ModelSerializer):
    client_cert_fingerprint = serializers.SerializerMethodField(
        help_text=_("The OpenADR fingerprint of our client certificate (give it to the VTN).")
    )
    has_client_key = serializers.SerializerMethodField()
    member_nodes = serializers.SerializerMethodField(
        help_text=_("Further nodes (other sites) the VEN's events apply to: a group of sites.")
    )

    class Meta:
        model = Ven
        fields = [
            "id",
            "site",
            "node",
            "member_nodes",
            "name",
            "vtn_url",
            "ven_name",
            "ven_id",
            "registration_id",
            "client_cert_pem",
            "client_cert_fingerprint",
            "has_client_key",
            "vtn_ca_pem",
            "vtn_fingerprint",
            "poll_seconds",
            "default_opt",
            "opt_out_over_minutes",
            "opt_out_days",
            "level_1_percent",
            "level_2_percent",
            "level_3_percent",
            "randomize",
            "is_active",
            "registered_at",
            "last_poll_at",
            "last_ok_at",
            "last_outcome",
            "last_error",
        ]

    def get_client_cert_fingerprint(self, ven: Ven) -> str:
        return openadr.fingerprint(ven.client_cert_pem) if ven.client_cert_pem else ""

    def get_member_nodes(self, ven: Ven) -> list[int]:
        return [member.node_id for member in ven.members.all()]

    def get_has_client_key(self, ven: Ven) -> bool:
        return ven.has_client_key


class VenUpdateSerializer(serializers.Serializer):
    """What may be changed; the private key is write-only (never answered back)."""

    node = ScopedPrimaryKeyRelatedField(
        permission="energy.manage", queryset=PowerNode.objects.all()
    )
    member_nodes = ScopedPrimaryKeyRelatedField(
        permission="energy.manage",
        queryset=PowerNode.objects.all(),
        many=True,
        required=False,
        help_text=_("Nodes of other sites the VEN's events also apply to (a group of sites)."),
    )
    name = serializers.CharField(max_length=100)
    vtn_url = serializers.URLField(max_length=300)
    ven_name = serializers.CharField(max_length=100)
    ven_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    client_cert_pem = serializers.CharField(required=False, allow_blank=True)
    client_key_pem = serializers.CharField(required=False, allow_blank=True, write_only=True)
    vtn_ca_pem = serializers.CharField(required=False, allow_blank=True)
    vtn_fingerprint = serializers.CharField(max_length=64, required=False, allow_blank=True)
    poll_seconds = serializers.IntegerField(min_value=5, required=False)
    default_opt = serializers.ChoiceField(choices=Opt.choices, required=False)
    opt_out_over_minutes = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    opt_out_days = serializers.IntegerField(
        min_value=0,
        max_value=127,
        required=False,
        help_text=_("Bit mask of days (site time): Monday = 1, Tuesday = 2 ... Sunday = 64."),
    )
    level_1_percent = serializers.DecimalField(5, 2, required=False)
    level_2_percent = serializers.DecimalField(5, 2, required=False)
    level_3_percent = serializers.DecimalField(5, 2, required=False)
    randomize = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class VenCreateSerializer(VenUpdateSerializer):
    site = ScopedPrimaryKeyRelatedField(permission="energy.manage", queryset=Site.objects.all())


class EventNodeLimitSerializer(serializers.ModelSerializer):
    site = serializers.IntegerField(source="node.site_id", read_only=True)

    class Meta:
        model = EventNodeLimit
        fields = [
            "node",
            "site",
            "share",
            "limit_before_a",
            "limit_before_kw",
            "limit_a",
            "limit_kw",
        ]


class DemandResponseEventSerializer(serializers.ModelSerializer):
    node_limits = EventNodeLimitSerializer(many=True, read_only=True)
    site = serializers.IntegerField(source="ven.site_id", read_only=True)
    node = serializers.IntegerField(source="ven.node_id", read_only=True)
    reported_opt = serializers.CharField(
        read_only=True, help_text=_("What the VTN was last told (optIn / optOut; empty: nothing).")
    )

    class Meta:
        model = DemandResponseEvent
        fields = [
            "id",
            "ven",
            "site",
            "node",
            "event_id",
            "modification_number",
            "status",
            "priority",
            "signal_name",
            "signal_type",
            "signal_kind",
            "level",
            "target_kw",
            "starts_at",
            "ends_at",
            "ramp_up_seconds",
            "recovery_seconds",
            "start_after_seconds",
            "offset_seconds",
            "opt",
            "opt_source",
            "opt_changed_at",
            "reported_opt",
            "reported_at",
            "limit_before_a",
            "limit_before_kw",
            "limit_a",
            "limit_kw",
            "node_limits",
            "intervals",
            "received_at",
        ]


class OptInputSerializer(serializers.Serializer):
    opt = serializers.ChoiceField(choices=Opt.choices)


class BmsNodeSerializer(serializers.ModelSerializer):
    limit_a = serializers.DecimalField(read_only=True, **AMPS)

    class Meta:
        model = PowerNode
        fields = ["id", "site", "parent", "name", "kind", "lines", "voltage_v", "limit_a"]


class LimitReasonSerializer(serializers.Serializer):
    source = serializers.CharField(
        help_text=_(
            "rating, power_limit, peak_cap, window, or an override's source "
            "(manual, api, demand_response)"
        )
    )
    limit_a = serializers.DecimalField(allow_null=True, **AMPS)
    limit_kw = serializers.DecimalField(allow_null=True, **KILOWATTS)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    reference = serializers.CharField(required=False)
    note = serializers.CharField(required=False)


class BmsLiveSerializer(serializers.Serializer):
    node = serializers.IntegerField()
    at = serializers.DateTimeField()
    limit_a = serializers.DecimalField(allow_null=True, **AMPS)
    limit_kw = serializers.DecimalField(allow_null=True, **KILOWATTS)
    building_load_w = serializers.IntegerField()
    allocated_a = serializers.ListField(child=serializers.DecimalField(**AMPS))
    drawn_a = serializers.ListField(child=serializers.DecimalField(**AMPS))
    charging_w = serializers.IntegerField()
    charging_share = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    limits = LimitReasonSerializer(many=True)


class BmsIntervalSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    drawn_w_avg = serializers.IntegerField()
    drawn_w_max = serializers.IntegerField()
    building_w_avg = serializers.IntegerField()
    limit_w = serializers.IntegerField(allow_null=True)
    sessions_max = serializers.IntegerField()


class BmsHistorySerializer(serializers.Serializer):
    node = serializers.IntegerField()
    intervals = BmsIntervalSerializer(many=True)


class BmsHistoryQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text=_("Default: a day before end."))
    end = serializers.DateTimeField(required=False, help_text=_("Default: now."))

    def validate(self, data):
        data.setdefault("end", timezone.now())
        data.setdefault("start", data["end"] - timedelta(days=1))
        if data["end"] <= data["start"]:
            raise serializers.ValidationError({"end": _("The end must come after the start.")})
        if (data["end"] - data["start"]).days > 31:
            raise serializers.ValidationError({"end": _("At most 31 days at a time.")})
        return data


class BmsLimitInputSerializer(serializers.Serializer):
    limit_a = serializers.DecimalField(
        min_value=Decimal(0), required=False, allow_null=True, **AMPS
    )
    limit_kw = serializers.DecimalField(
        min_value=Decimal(0), required=False, allow_null=True, **KILOWATTS
    )
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField()
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, data):
        if data.get("limit_a") is None and data.get("limit_kw") is None:
            raise serializers.ValidationError(_("Give limit_a, limit_kw or both."))
        return data


class BmsScheduleInputSerializer(serializers.Serializer):
    """A BMS's whole schedule of limits for a node (e.g. day-ahead): it replaces every BMS
    limit on the node that has not ended."""

    limits = BmsLimitInputSerializer(many=True, allow_empty=True)

    def validate_limits(self, items):
        if len(items) > SCHEDULE_MAX_ITEMS:
            raise serializers.ValidationError(
                _("At most %(n)s limits at a time.") % {"n": SCHEDULE_MAX_ITEMS}
            )
        for item in items:
            if "starts_at" not in item:
                raise serializers.ValidationError(_("Each limit of a schedule needs starts_at."))
        return items


SCHEDULE_MAX_ITEMS = 7 * 96  # a week of quarter hours


class BmsLoadInputSerializer(serializers.Serializer):
    load_w = serializers.IntegerField(min_value=0, max_value=100_000_000)


class BmsLimitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    node = serializers.IntegerField(source="node_id")
    source = serializers.CharField()
    limit_a = serializers.DecimalField(allow_null=True, **AMPS)
    limit_kw = serializers.DecimalField(allow_null=True, **KILOWATTS)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()
