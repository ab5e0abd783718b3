"""One FilterSet per model, shared by the portal and the API (foreign keys as ``x_id`` / ``x``
pairs, restricted to what the requester may see)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import ScopedIdFilter, scoped, site_pair, station_pair

from .choices import AllocationReason, NodeKind, PushState
from .models import EvseAllocation, LimitOverride, PowerAlert, PowerNode


def node_id_filter(path: str) -> ScopedIdFilter:
    return ScopedIdFilter(
        field_name=path,
        queryset=scoped(PowerNode, "power.view"),
        distinct=False,
        label=_("Node (id)"),
    )


class PowerNodeFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("site")
    parent_id = node_id_filter("parent")
    root = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label=_("Site supply (no parent)")
    )
    kind = django_filters.MultipleChoiceFilter(choices=NodeKind.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")
    ordering = django_filters.OrderingFilter(fields=["name", ("site__name", "site"), "kind"])

    class Meta:
        model = PowerNode
        fields = ["id", "name", "kind", "lines"]


class LimitOverrideFilterSet(django_filters.FilterSet):
    node_id = node_id_filter("node")
    site_id, site = site_pair("node__site")
    source = django_filters.CharFilter()
    ordering = django_filters.OrderingFilter(fields=["starts_at", "ends_at"])

    class Meta:
        model = LimitOverride
        fields = ["id", "source", "reference"]


class EvseAllocationFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("evse__station__site")
    station_id, station = station_pair("evse__station")
    node_id = node_id_filter("node")
    reason = django_filters.MultipleChoiceFilter(choices=AllocationReason.choices)
    push_state = django_filters.MultipleChoiceFilter(choices=PushState.choices)
    ordering = django_filters.OrderingFilter(fields=["limit_da", "updated_at"])

    class Meta:
        model = EvseAllocation
        fields = ["id", "reason", "push_state"]


class PowerAlertFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("station__site")
    station_id, station = station_pair("station")
    open = django_filters.BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", label=_("Not resolved")
    )
    ordering = django_filters.OrderingFilter(fields=["created_at"])

    class Meta:
        model = PowerAlert
        fields = ["id", "kind"]
