"""FilterSets of the OCPP logs (shared with the portal's station page)."""

import django_filters

from apps.stations.filtersets import MomentFilter, site_pair, station_pair

from ..models import MessageLog, StationEvent


class MessageLogFilterSet(django_filters.FilterSet):
    station_id, station = station_pair("station")
    site_id, site = site_pair("station__site")
    direction = django_filters.ChoiceFilter(choices=MessageLog.Direction.choices)
    action = django_filters.CharFilter()
    message_type = django_filters.NumberFilter()
    unique_id = django_filters.CharFilter()
    created_after = MomentFilter(field_name="created_at", bound="after")
    created_before = MomentFilter(field_name="created_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=["created_at"])

    class Meta:
        model = MessageLog
        fields = ["id"]


class StationEventFilterSet(django_filters.FilterSet):
    station_id, station = station_pair("station")
    site_id, site = site_pair("station__site")
    kind = django_filters.MultipleChoiceFilter(choices=StationEvent.Kind.choices)
    action = django_filters.CharFilter()
    status = django_filters.CharFilter()
    occurred_after = MomentFilter(field_name="occurred_at", bound="after")
    occurred_before = MomentFilter(field_name="occurred_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=["occurred_at"])

    class Meta:
        model = StationEvent
        fields = ["id", "request_id"]
