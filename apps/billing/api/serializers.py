from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.stations.models import Site, Station

from .. import services
from ..choices import PricingGoal, Sector
from ..models import (
    BillingProfile,
    DriverGroup,
    Payout,
    PayoutLine,
    ReceiptLine,
    SessionCost,
    Tariff,
    TariffAssignment,
    TariffVersion,
    TaxRate,
)
from ..pricing_text import describe_tariff


class TariffVersionSerializer(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()

    class Meta:
        model = TariffVersion
        fields = ["id", "number", "effective_from", "definition", "summary", "note", "created_at"]

    def get_summary(self, version: TariffVersion) -> str:
        return describe_tariff(version.parsed)


class TariffSerializer(serializers.ModelSerializer):
    versions = TariffVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Tariff
        fields = ["id", "name", "description", "is_active", "created_at", "versions"]


class TariffInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    definition = serializers.JSONField(
        help_text="Prices in the engine's JSON form (docs/billing.md)."
    )
    effective_from = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Now or later (within a minute of the server's clock); empty: now.",
    )

    def validate_effective_from(self, value):
        return price_start_or_error(value)


def price_start_or_error(value):
    """``services.price_start`` with its refusal as this field's error."""
    try:
        return services.price_start(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict["effective_from"]) from error


class TariffVersionInputSerializer(serializers.Serializer):
    definition = serializers.JSONField()
    effective_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class TariffAssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffAssignment
        fields = [
            "id",
            "tariff",
            "site",
            "station",
            "driver_group",
            "priority",
            "valid_from",
            "valid_until",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class TariffAssignmentInputSerializer(serializers.Serializer):
    """Only tariffs, places and groups the caller may manage; a station brings its site."""

    tariff = ScopedPrimaryKeyRelatedField(
        permission="billing.manage", queryset=Tariff.objects.all()
    )
    site = ScopedPrimaryKeyRelatedField(
        permission="billing.manage", queryset=Site.objects.all(), required=False, allow_null=True
    )
    station = ScopedPrimaryKeyRelatedField(
        permission="billing.manage", queryset=Station.objects.all(), required=False, allow_null=True
    )
    driver_group = ScopedPrimaryKeyRelatedField(
        permission="billing.manage",
        queryset=DriverGroup.objects.all(),
        required=False,
        allow_null=True,
    )
    priority = serializers.IntegerField(min_value=0, max_value=32767, required=False, default=100)
    valid_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate(self, data):
        # A tariff for every site (no site, no station) is the whole tenant's: only who
        # manages billing on every site sets it (the portal's form says the same).
        if data.get("site") is None and data.get("station") is None:
            from apps.api.permissions import actor_of

            actor = actor_of(self.context["request"])
            if not actor.scope_for("billing.manage").all_sites:
                raise serializers.ValidationError(
                    {"site": ["Only who manages billing on every site prices them all."]}
                )
        return data


class ReceiptLineSerializer(serializers.ModelSerializer):
    display_quantity = serializers.DecimalField(max_digits=18, decimal_places=4, read_only=True)
    display_unit = serializers.CharField(read_only=True)

    class Meta:
        model = ReceiptLine
        fields = [
            "position",
            "kind",
            "label",
            "quantity",
            "unit",
            "display_quantity",
            "display_unit",
            "unit_price",
            "amount",
            "tax_code",
            "tax_rate",
        ]


class SessionCostSerializer(serializers.ModelSerializer):
    lines = ReceiptLineSerializer(many=True, read_only=True)
    station = serializers.IntegerField(source="session.station_id", read_only=True)
    site = serializers.IntegerField(
        source="session.station.site_id", read_only=True, allow_null=True
    )
    started_at = serializers.DateTimeField(source="session.started_at", read_only=True)
    ended_at = serializers.DateTimeField(source="session.ended_at", read_only=True)

    class Meta:
        model = SessionCost
        fields = [
            "id",
            "receipt_number",
            "session",
            "station",
            "site",
            "started_at",
            "ended_at",
            "tariff_version",
            "tariff_name",
            "driver_group_name",
            "driver_account",
            "currency",
            "subtotal",
            "tax_total",
            "total",
            "total_excl_tax",
            "prices_include_tax",
            "platform_fee",
            "energy_wh",
            "connected_seconds",
            "charging_seconds",
            "idle_seconds",
            "inputs_digest",
            "computed_at",
            "lines",
        ]


class RefundInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out to refund everything that is left.",
    )
    reason = serializers.CharField(max_length=300)
    request_key = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="Send the same key again to retry safely: the refund is applied once.",
    )


class PayoutLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PayoutLine
        fields = ["position", "kind", "description", "count", "amount"]


class PayoutSerializer(serializers.ModelSerializer):
    lines = PayoutLineSerializer(many=True, read_only=True)
    has_bank_file = serializers.BooleanField(read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "period_start",
            "period_end",
            "currency",
            "status",
            "amount",
            "message_id",
            "bank_file_format",
            "has_bank_file",
            "creditor_name",
            "creditor_account",
            "created_at",
            "built_at",
            "sent_at",
            "paid_at",
            "lines",
        ]


class WizardInputSerializer(serializers.Serializer):
    sector = serializers.ChoiceField(choices=Sector.choices)
    goal = serializers.ChoiceField(choices=PricingGoal.choices)
    energy_price_per_kwh = serializers.DecimalField(max_digits=10, decimal_places=6, min_value=0)
    demand_charge_per_kw_month = serializers.DecimalField(
        max_digits=10, decimal_places=4, min_value=0, required=False, default=Decimal(0)
    )
    # Defaults are not run through the field: they must already be Decimals (an int here
    # reached the wizard as ``Decimal * float`` and answered 500).
    margin_percent = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=500,
        required=False,
        default=Decimal(20),
    )
    sessions_per_day = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.1"),
        required=False,
        allow_null=True,
        default=None,
    )
    kwh_per_session = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.1"),
        required=False,
        allow_null=True,
        default=None,
    )


class WizardProposalSerializer(serializers.Serializer):
    definition = serializers.JSONField()
    summary = serializers.CharField()
    reasoning = serializers.ListField(child=serializers.CharField())
    estimates = serializers.DictField(
        child=serializers.DecimalField(max_digits=18, decimal_places=4)
    )


# --- What drivers see: the price before charging, the receipt after --------------------------


def _plain(value):
    """Decimals as exact strings (never floats) inside free-form component dicts."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class PriceQuoteQuerySerializer(serializers.Serializer):
    id_token = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The driver's token: a driver group's tariff applies to its members.",
    )
    evse_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The port the driver looks at (it must belong to the station).",
    )

    def validate_evse_id(self, value):
        station = self.context["station"]
        if value is not None and not station.evses.filter(evse_id=value).exists():
            raise serializers.ValidationError(f"Station {station.identity} has no EVSE {value}.")
        return value


class PriceComponentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            "session_fee",
            "energy",
            "time",
            "idle",
            "min_price",
            "max_price",
            "reservation_fee",
            "no_show_fee",
        ]
    )
    text = serializers.CharField(help_text="The component in words, in the caller's language.")
    details = serializers.DictField(
        help_text="Its numbers (prices as decimal strings, time-of-use windows, grace...)."
    )

    def to_representation(self, instance):
        details = {key: value for key, value in instance.items() if key not in ("kind", "text")}
        return {"kind": instance["kind"], "text": instance["text"], "details": _plain(details)}


class QuoteTariffSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="tariff_id")
    name = serializers.CharField(source="tariff.name")
    version = serializers.IntegerField(source="number")
    effective_from = serializers.DateTimeField()


class QuoteTaxSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    rate = serializers.DecimalField(max_digits=7, decimal_places=6)
    compound = serializers.BooleanField()


class PriceQuoteSerializer(serializers.Serializer):
    station = serializers.IntegerField(source="station.pk")
    station_identity = serializers.CharField(source="station.identity")
    site = serializers.IntegerField(source="station.site_id", allow_null=True)
    at = serializers.DateTimeField(help_text="When the price was looked up (UTC).")
    id_token = serializers.CharField(source="token_uid")
    token_recognised = serializers.BooleanField(
        source="token_known", help_text="False: an unknown token pays the public price."
    )
    free = serializers.BooleanField(source="tariff.is_free")
    currency = serializers.CharField()
    tariff = QuoteTariffSerializer(source="choice.version", allow_null=True)
    driver_group = serializers.CharField(source="choice.driver_group.name", allow_null=True)
    summary = serializers.CharField()
    components = PriceComponentSerializer(many=True)
    taxes = QuoteTaxSerializer(source="taxes.rates", many=True)
    prices_include_tax = serializers.BooleanField(source="taxes.prices_include_tax")


class ReceiptTaxSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="tax_code")
    name = serializers.CharField(source="label")
    rate = serializers.DecimalField(source="tax_rate", max_digits=7, decimal_places=6)

    class Meta:
        model = ReceiptLine
        fields = ["code", "name", "rate", "amount"]


class SessionReceiptSerializer(serializers.ModelSerializer):
    """The itemised receipt of one charging session, as the driver gets it."""

    lines = serializers.SerializerMethodField()
    taxes = serializers.SerializerMethodField()
    site = serializers.SerializerMethodField()
    station = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(source="session.started_at")
    ended_at = serializers.DateTimeField(source="session.ended_at")
    timezone = serializers.CharField(source="site_timezone")
    started_at_local = serializers.SerializerMethodField()
    ended_at_local = serializers.SerializerMethodField()

    class Meta:
        model = SessionCost
        fields = [
            "receipt_number",
            "session",
            "site",
            "station",
            "started_at",
            "ended_at",
            "timezone",
            "started_at_local",
            "ended_at_local",
            "energy_wh",
            "connected_seconds",
            "charging_seconds",
            "idle_seconds",
            "tariff_name",
            "driver_group_name",
            "currency",
            "lines",
            "subtotal",
            "taxes",
            "tax_total",
            "total",
            "total_excl_tax",
            "prices_include_tax",
            "computed_at",
        ]

    @extend_schema_field(ReceiptLineSerializer(many=True))
    def get_lines(self, cost):
        return ReceiptLineSerializer(
            [ln for ln in cost.lines.all() if not ln.is_tax], many=True
        ).data

    @extend_schema_field(ReceiptTaxSerializer(many=True))
    def get_taxes(self, cost):
        return ReceiptTaxSerializer([ln for ln in cost.lines.all() if ln.is_tax], many=True).data

    @extend_schema_field(
        inline_serializer(
            "ReceiptSite",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "timezone": serializers.CharField(),
            },
            allow_null=True,
        )
    )
    def get_site(self, cost):
        site = cost.session.station.site
        if site is None:
            return None
        return {"id": site.pk, "name": site.name, "timezone": site.timezone}

    @extend_schema_field(
        inline_serializer(
            "ReceiptStation",
            {
                "id": serializers.IntegerField(),
                "identity": serializers.CharField(),
                "name": serializers.CharField(),
            },
        )
    )
    def get_station(self, cost):
        station = cost.session.station
        return {"id": station.pk, "identity": station.identity, "name": station.name}

    def _local(self, cost, moment) -> str | None:
        if moment is None:
            return None
        return moment.astimezone(ZoneInfo(cost.site_timezone)).isoformat()

    @extend_schema_field(serializers.CharField(help_text="On the site's clock, with its offset."))
    def get_started_at_local(self, cost):
        return self._local(cost, cost.session.started_at)

    @extend_schema_field(serializers.CharField(help_text="On the site's clock, with its offset."))
    def get_ended_at_local(self, cost):
        return self._local(cost, cost.session.ended_at)


class PayoutPeriodSerializer(serializers.Serializer):
    """A month that has ended on the tenant's clock (any day of it)."""

    period_start = serializers.DateField()

    def validate_period_start(self, value):
        from ..services.payouts import last_completed_month, month_start

        if month_start(value) > last_completed_month():
            raise serializers.ValidationError("This month has not ended yet.")
        return month_start(value)


class PayoutPreviewSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    payout = serializers.SerializerMethodField()
    lines = PayoutLineSerializer(many=True)

    def get_payout(self, preview) -> int | None:
        return preview.payout.pk if preview.payout is not None else None


class TaxRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaxRate
        fields = [
            "id",
            "site",
            "code",
            "name",
            "rate",
            "compound",
            "position",
            "registration_number",
        ]


class TaxRateInputSerializer(serializers.ModelSerializer):
    """A tax of one of the caller's sites; ``rate`` is a fraction (0.05 for 5 %)."""

    site = ScopedPrimaryKeyRelatedField(permission="billing.manage", queryset=Site.objects.all())

    class Meta:
        model = TaxRate
        fields = ["site", "code", "name", "rate", "compound", "position", "registration_number"]
        # the (site, code) pair is checked by the service (a 400 with the field's message)
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["site"].read_only = True  # a tax stays on its site
        return fields


class BillingProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingProfile
        fields = [
            "id",
            "prices_include_tax",
            "legal_name",
            "payout_account_holder",
            "payout_iban",
            "payout_account_number",
            "payout_clearing_system",
            "payout_clearing_member_id",
            "payout_bic",
            "payout_country",
            "payout_file_format",
            "ocpi_country_code",
            "ocpi_party_id",
            "cost_update_interval_seconds",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
