"""One FilterSet per model, shared by the API and the portal lists."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from apps.api.permissions import actor_of

from . import selectors
from .models import Fleet, FleetCard, TelemetryReading, Vehicle, VehicleSession


def _fleets(request):
    """The fleet choices: only those the reader sees (a manager: their own)."""
    if request is None:  # the OpenAPI schema
        return Fleet.objects.none()
    return selectors.fleets_for(actor_of(request))


def _vehicles(request):
    if request is None:
        return Vehicle.objects.none()
    return selectors.vehicles_for(actor_of(request))


class FleetFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Fleet
        fields = ["name", "site"]


class VehicleFilterSet(django_filters.FilterSet):
    fleet = django_filters.ModelChoiceFilter(queryset=_fleets)
    q = django_filters.CharFilter(method="search", label="VIN, plate, make or model")

    class Meta:
        model = Vehicle
        fields = ["fleet", "depot", "is_active", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(vin__icontains=value)
            | Q(plate__icontains=value)
            | Q(make__icontains=value)
            | Q(model__icontains=value)
        )


class FleetCardFilterSet(django_filters.FilterSet):
    fleet = django_filters.ModelChoiceFilter(queryset=_fleets)
    vehicle = django_filters.ModelChoiceFilter(queryset=_vehicles)
    uid = django_filters.CharFilter(field_name="token__uid", lookup_expr="icontains")

    class Meta:
        model = FleetCard
        fields = ["fleet", "vehicle", "kind", "uid"]


class VehicleSessionFilterSet(django_filters.FilterSet):
    fleet = django_filters.ModelChoiceFilter(queryset=_fleets)
    vehicle = django_filters.ModelChoiceFilter(queryset=_vehicles)
    start = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = VehicleSession
        fields = ["fleet", "vehicle", "start", "end"]


class TelemetryFilterSet(django_filters.FilterSet):
    class Meta:
        model = TelemetryReading
        fields = ["vehicle", "source"]
