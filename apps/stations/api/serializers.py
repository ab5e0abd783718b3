from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.api.permissions import actor_of
from apps.tenants.models import StationIdentity

from ..choices import ConnectorType, LiveState, RegistrationStatus
from ..models import Connector, Evse, Site, Station, StatusChange
from ..passwords import validate_station_password
from ..tags import normalize_tags


# --- Sites -----------------------------------------------------------------------------------
class SiteSerializer(serializers.ModelSerializer):
    station_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "address",
            "city",
            "region",
            "postal_code",
            "country",
            "latitude",
            "longitude",
            "timezone",
            "station_count",
            "created_at",
            "archived_at",
        ]


class SiteInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = [
            "name",
            "address",
            "city",
            "region",
            "postal_code",
            "country",
            "latitude",
            "longitude",
            "timezone",
        ]


# --- Ports and connectors --------------------------------------------------------------------
class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = ["id", "evse", "connector_id", "connector_type", "status", "max_power_w"]


class NestedConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = ["id", "connector_id", "connector_type", "status", "max_power_w"]


class EvseSerializer(serializers.ModelSerializer):
    live_state = serializers.ChoiceField(choices=LiveState.choices, read_only=True)
    # lists prefetched by the views (``CONNECTORS`` / ``PORTS`` in views.py)
    connectors = NestedConnectorSerializer(many=True, read_only=True, source="connector_list")

    class Meta:
        model = Evse
        fields = [
            "id",
            "station",
            "evse_id",
            "status",
            "live_state",
            "error_code",
            "status_changed_at",
            "max_power_w",
            "min_current_a",
            "max_current_a",
            "phases",
            "connectors",
        ]


class NestedEvseSerializer(EvseSerializer):
    class Meta(EvseSerializer.Meta):
        fields = [name for name in EvseSerializer.Meta.fields if name != "station"]


# --- Stations --------------------------------------------------------------------------------
class StationSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(
        source="site.name", read_only=True, default=None, allow_null=True
    )
    evses = NestedEvseSerializer(many=True, read_only=True, source="evse_list")

    class Meta:
        model = Station
        fields = [
            "id",
            "identity",
            "name",
            "site",
            "site_name",
            "vendor",
            "model",
            "serial_number",
            "firmware_version",
            "ocpp_version",
            "registration_status",
            "heartbeat_interval",
            "lax_validation",
            "security_profile",
            "tags",
            "is_online",
            "last_seen_at",
            "connected_at",
            "last_boot_at",
            "created_at",
            "retired_at",
            "evses",
        ]


class StationTagsField(serializers.ListField):
    """Tags as a list of short slugs; returned in their normal form (lowercase, sorted)."""

    child = serializers.CharField(allow_blank=False, trim_whitespace=True)

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            _("Short lowercase slugs (letters, digits, - and _), at most 20 per station."),
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        try:
            return normalize_tags(values)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class _StationSiteMixin:
    def validate_site(self, site):
        """Only a caller who configures every site may leave a station without one."""
        if site is None:
            actor = actor_of(self.context.get("request"))
            if not actor.scope_for("stations.configure").all_sites:
                raise serializers.ValidationError(_("Choose one of your sites."))
        return site


class StationCreateSerializer(_StationSiteMixin, serializers.Serializer):
    identity = serializers.RegexField(
        r"^[A-Za-z0-9*\-_=:+|@.]{1,48}$",
        help_text=_("The OCPP identity (last URL segment the station connects to)."),
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        validators=[validate_station_password],
        help_text=_("Security profile 1 (HTTP Basic) password, 16-40 printable ASCII characters."),
    )
    site = ScopedPrimaryKeyRelatedField(
        permission="stations.configure", queryset=Site.objects.all(), allow_null=True
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    evse_count = serializers.IntegerField(min_value=1, max_value=32, default=1)
    max_current_a = serializers.DecimalField(
        max_digits=6, decimal_places=1, min_value=6, max_value=1000, default=32
    )
    min_current_a = serializers.DecimalField(
        max_digits=6, decimal_places=1, min_value=0, max_value=1000, default=6
    )
    phases = serializers.ChoiceField(choices=[(1, "1"), (3, "3")], default=3)
    max_power_w = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    connector_type = serializers.ChoiceField(choices=ConnectorType.choices, default="cType2")
    registration_status = serializers.ChoiceField(
        choices=RegistrationStatus.choices, default=RegistrationStatus.ACCEPTED
    )
    tags = StationTagsField(required=False)

    def validate_identity(self, value):
        # Identities are unique across every tenant (one public registry).
        if StationIdentity.objects.filter(identity=value).exists():
            raise serializers.ValidationError(_("This identity is already registered."))
        return value


class StationUpdateSerializer(_StationSiteMixin, serializers.ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(
        permission="stations.configure",
        queryset=Site.objects.all(),
        allow_null=True,
        required=False,
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        validators=[validate_station_password],
    )
    tags = StationTagsField(required=False)

    class Meta:
        model = Station
        fields = [
            "name",
            "site",
            "heartbeat_interval",
            "lax_validation",
            "security_profile",
            "registration_status",
            "password",
            "tags",
        ]


class StatusChangeSerializer(serializers.ModelSerializer):
    station_identity = serializers.CharField(source="station.identity", read_only=True)
    evse_number = serializers.IntegerField(
        source="evse.evse_id", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = StatusChange
        fields = [
            "id",
            "station",
            "station_identity",
            "evse",
            "evse_number",
            "kind",
            "status",
            "error_code",
            "info",
            "occurred_at",
            "received_at",
        ]


# --- Ports and connectors (writes) -------------------------------------------------------------
class EvseUpdateSerializer(serializers.ModelSerializer):
    """A port's ratings."""

    class Meta:
        model = Evse
        fields = ["max_current_a", "min_current_a", "max_power_w", "phases"]
        extra_kwargs = {
            "max_current_a": {"min_value": 6, "max_value": 1000},
            "min_current_a": {"min_value": 0, "max_value": 1000},
        }


class EvseCreateSerializer(EvseUpdateSerializer):
    """One more port on a station (numbered after its last port) with one connector."""

    station = ScopedPrimaryKeyRelatedField(
        permission="stations.configure", queryset=Station.objects.filter(retired_at__isnull=True)
    )
    connector_type = serializers.ChoiceField(choices=ConnectorType.choices, default="cType2")

    class Meta(EvseUpdateSerializer.Meta):
        fields = ["station", *EvseUpdateSerializer.Meta.fields, "connector_type"]
        extra_kwargs = {
            **EvseUpdateSerializer.Meta.extra_kwargs,
            "max_power_w": {"required": False, "allow_null": True},
        }


class ConnectorUpdateSerializer(serializers.ModelSerializer):
    connector_type = serializers.ChoiceField(choices=ConnectorType.choices)

    class Meta:
        model = Connector
        fields = ["connector_type", "max_power_w"]
