"""One FilterSet per model, shared by the portal lists and the REST API (see
``apps/stations/filtersets.py`` for the conventions: ``<fk>_id`` / ``<fk>`` pairs, scoped choices,
inclusive ``*_after`` / ``*_before`` bounds that take a day or a timestamp)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import (
    MomentFilter,
    ScopedIdFilter,
    scoped,
    site_pair,
    station_pair,
)

from .choices import SessionStatus, TokenType
from .models import ChargingSession, IdToken, MeterValue


class IdTokenFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    uid = django_filters.CharFilter(lookup_expr="iexact")
    token_type = django_filters.MultipleChoiceFilter(choices=TokenType.choices)
    is_active = django_filters.BooleanFilter()
    parent_uid = django_filters.CharFilter(lookup_expr="iexact")
    expires_after = MomentFilter(field_name="expires_at", bound="after")
    expires_before = MomentFilter(field_name="expires_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=["uid", "label", "created_at", "expires_at"])

    class Meta:
        model = IdToken
        fields = ["id"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(uid__icontains=value) | Q(label__icontains=value) | Q(parent_uid__icontains=value)
        )


class ChargingSessionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    site_id, site = site_pair("station__site")
    station_id, station = station_pair("station")
    evse_id = django_filters.NumberFilter(field_name="evse__evse_id", label=_("Port number"))
    token_id = ScopedIdFilter(
        field_name="token",
        queryset=scoped(IdToken, "tokens.view"),
        distinct=False,
        label=_("Token (id)"),
    )
    token = django_filters.CharFilter(
        field_name="id_token", lookup_expr="iexact", label=_("Token (as presented)")
    )
    driver = django_filters.CharFilter(
        field_name="token__label", lookup_expr="icontains", label=_("Driver (token label)")
    )
    status = django_filters.MultipleChoiceFilter(choices=SessionStatus.choices)
    transaction_id = django_filters.CharFilter()
    started_after = MomentFilter(field_name="started_at", bound="after")
    started_before = MomentFilter(field_name="started_at", bound="before")
    ended_after = MomentFilter(field_name="ended_at", bound="after")
    ended_before = MomentFilter(field_name="ended_at", bound="before")
    min_energy_wh = django_filters.NumberFilter(field_name="energy_wh", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(
        fields=[
            "started_at",
            "ended_at",
            "energy_wh",
            ("station__identity", "station"),
            ("station__site__name", "site"),
        ]
    )

    class Meta:
        model = ChargingSession
        fields = ["id"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(id_token__icontains=value)
            | Q(transaction_id__icontains=value)
            | Q(token__label__icontains=value)
            | Q(station__identity__icontains=value)
        )


class MeterValueFilterSet(django_filters.FilterSet):
    station_id, station = station_pair("station")
    site_id, site = site_pair("station__site")
    session_id = ScopedIdFilter(
        field_name="session",
        queryset=scoped(ChargingSession, "sessions.view"),
        distinct=False,
        label=_("Session (id)"),
    )
    evse_id = django_filters.NumberFilter(label=_("Port number"))
    measurand = django_filters.CharFilter()
    phase = django_filters.CharFilter()
    location = django_filters.CharFilter()
    context = django_filters.CharFilter()
    timestamp_after = MomentFilter(field_name="timestamp", bound="after")
    timestamp_before = MomentFilter(field_name="timestamp", bound="before")
    ordering = django_filters.OrderingFilter(fields=["timestamp"])

    class Meta:
        model = MeterValue
        fields = ["id", "unit"]
