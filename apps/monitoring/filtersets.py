"""The Alert FilterSet, shared by the portal's alert list and the REST API (conventions of
``apps/stations/filtersets.py``)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import MomentFilter, site_pair, station_pair

from .choices import AlertKind, AlertSeverity
from .models import Alert


class AlertFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    site_id, site = site_pair("station__site")
    station_id, station = station_pair("station")
    kind = django_filters.MultipleChoiceFilter(choices=AlertKind.choices, label=_("Kind"))
    severity = django_filters.MultipleChoiceFilter(
        choices=AlertSeverity.choices, label=_("Severity")
    )
    is_open = django_filters.BooleanFilter(
        field_name="cleared_at", lookup_expr="isnull", label=_("Open")
    )
    is_acknowledged = django_filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True, label=_("Acknowledged")
    )
    raised_after = MomentFilter(field_name="raised_at", bound="after", label=_("Raised after"))
    raised_before = MomentFilter(field_name="raised_at", bound="before", label=_("Raised before"))
    ordering = django_filters.OrderingFilter(
        fields=[
            "raised_at",
            "cleared_at",
            "kind",
            "severity",
            ("station__identity", "station"),
            ("station__site__name", "site"),
        ]
    )

    class Meta:
        model = Alert
        fields = ["id", "error_code"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(message__icontains=value)
            | Q(error_code__icontains=value)
            | Q(station__identity__icontains=value)
            | Q(station__name__icontains=value)
        )
