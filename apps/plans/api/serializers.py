from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import PlanOrder, PortActivation


class PlanOrderSerializer(serializers.ModelSerializer):
    seats_used = serializers.IntegerField(read_only=True)

    class Meta:
        model = PlanOrder
        fields = [
            "id",
            "order_code",
            "ordered_code",
            "tier",
            "years",
            "quantity",
            "seats_used",
            "starts_on",
            "expires_on",
            "reference",
            "renews",
            "created_at",
        ]


class PortActivationSerializer(serializers.ModelSerializer):
    station = serializers.IntegerField(source="station_pk", read_only=True)
    order_code = serializers.CharField(source="order.order_code", read_only=True)
    expires_on = serializers.DateField(source="order.expires_on", read_only=True)

    class Meta:
        model = PortActivation
        fields = [
            "id",
            "station",
            "station_identity",
            "evse_id",
            "order",
            "order_code",
            "expires_on",
            "activated_at",
            "released_at",
        ]


class PortActivationInputSerializer(serializers.Serializer):
    station = serializers.IntegerField(help_text=_("The station's id"))
    evse_id = serializers.IntegerField(min_value=1, help_text=_("The port (EVSE) number"))
    order = serializers.IntegerField(
        required=False, help_text=_("The order whose seat to take (default: the first free)")
    )


class PortReleaseInputSerializer(serializers.Serializer):
    activation = serializers.IntegerField(help_text=_("The activation to release"))
