import django_filters

from .choices import PlanTier
from .models import PlanOrder, PortActivation


class PlanOrderFilterSet(django_filters.FilterSet):
    tier = django_filters.MultipleChoiceFilter(choices=PlanTier.choices)
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lte")
    expires_after = django_filters.DateFilter(field_name="expires_on", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(fields=["expires_on", "starts_on", "created_at"])

    class Meta:
        model = PlanOrder
        fields = ["id", "order_code", "years"]


class PortActivationFilterSet(django_filters.FilterSet):
    station_id = django_filters.NumberFilter(field_name="station_pk")
    order_id = django_filters.NumberFilter(field_name="order_id")
    active = django_filters.BooleanFilter(field_name="released_at", lookup_expr="isnull")
    ordering = django_filters.OrderingFilter(fields=["activated_at", "station_identity"])

    class Meta:
        model = PortActivation
        fields = ["id", "evse_id"]
