"""One FilterSet per model, shared by the portal and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import ScopedIdFilter, scoped, site_pair

from .choices import EventStatus, Opt
from .limits import PowerNode
from .models import DemandResponseEvent, Ven


class VenFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("site")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Ven
        fields = ["id", "name", "is_active", "last_outcome"]


class DemandResponseEventFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("ven__site")
    ven_id = ScopedIdFilter(
        field_name="ven",
        queryset=scoped(Ven, "energy.view"),
        distinct=False,
        label=_("VEN (id)"),
    )
    status = django_filters.MultipleChoiceFilter(choices=EventStatus.choices)
    opt = django_filters.ChoiceFilter(choices=Opt.choices)
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = DemandResponseEvent
        fields = ["id", "event_id", "status", "opt"]


class BmsNodeFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("site")
    root = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label=_("Site supply (no parent)")
    )

    class Meta:
        model = PowerNode
        fields = ["id", "name", "kind"]
