"""One FilterSet per model, shared by the portal and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import ScopedIdFilter, scoped, site_pair, station_pair

from .choices import HolidayMode, RuleKind
from .models import AccessGroup, AccessRule, Holiday


class AccessGroupFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    token_uid = django_filters.CharFilter(
        field_name="tokens__uid", lookup_expr="iexact", distinct=True, label=_("Member token")
    )

    class Meta:
        model = AccessGroup
        fields = ["id", "name"]


class AccessRuleFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("scope_site")
    station_id, station = station_pair("station")
    kind = django_filters.MultipleChoiceFilter(choices=RuleKind.choices)
    holidays = django_filters.MultipleChoiceFilter(choices=HolidayMode.choices)
    group_id = ScopedIdFilter(
        field_name="groups",
        queryset=scoped(AccessGroup, "access.view"),
        distinct=True,
        label=_("Group (id)"),
    )
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = AccessRule
        fields = ["id", "kind", "name"]


class HolidayFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("site")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Holiday
        fields = ["id", "date"]
