"""One FilterSet per model, shared by the portal lists and the REST API (conventions of
``apps/stations/filtersets.py``: ``<fk>_id`` / ``<fk>`` pairs, inclusive ``*_after`` /
``*_before`` bounds)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import MomentFilter, scoped, site_pair, station_pair

from .choices import PayoutStatus
from .models import DriverAccount, DriverGroup, Payout, SessionCost, Tariff, TariffAssignment


class TariffFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    is_active = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(fields=["name", "created_at"])

    class Meta:
        model = Tariff
        fields = ["id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class TariffAssignmentFilterSet(django_filters.FilterSet):
    tariff_id = django_filters.ModelMultipleChoiceFilter(
        field_name="tariff", queryset=scoped(Tariff, "billing.view"), distinct=False
    )
    site_id, site = site_pair("site")
    station_id, station = station_pair("station")
    driver_group_id = django_filters.ModelMultipleChoiceFilter(
        field_name="driver_group", queryset=scoped(DriverGroup, "billing.view"), distinct=False
    )

    class Meta:
        model = TariffAssignment
        fields = ["id"]


class SessionCostFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    site_id, site = site_pair("session__station__site")
    station_id, station = station_pair("session__station")
    driver_account_id = django_filters.ModelMultipleChoiceFilter(
        field_name="driver_account",
        queryset=scoped(DriverAccount, "billing.view"),
        distinct=False,
        label=_("Driver account (id)"),
    )
    tariff = django_filters.CharFilter(field_name="tariff_name", lookup_expr="iexact")
    ended_after = MomentFilter(field_name="session__ended_at", bound="after")
    ended_before = MomentFilter(field_name="session__ended_at", bound="before")
    min_total = django_filters.NumberFilter(field_name="total", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(
        fields=[("session__ended_at", "ended_at"), "total", "receipt_number", "computed_at"]
    )

    class Meta:
        model = SessionCost
        fields = ["id", "receipt_number"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(receipt_number__icontains=value)
            | Q(session__id_token__icontains=value)
            | Q(session__station__identity__icontains=value)
            | Q(tariff_name__icontains=value)
        )


class PayoutFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PayoutStatus.choices)
    period_after = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_before = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")
    ordering = django_filters.OrderingFilter(fields=["period_start", "amount"])

    class Meta:
        model = Payout
        fields = ["id"]
