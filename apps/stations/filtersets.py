"""One FilterSet per model, shared by the portal lists and the REST API.

Foreign keys come in pairs, NetBox-style: ``site_id`` (primary keys) and ``site`` (a natural key,
here the site's name).  The choices of those filters are restricted to what the requesting actor
may see, so an id outside the actor's scope is refused exactly like an id that does not exist.
Each FilterSet also carries its ``ordering`` (sorting) so that portal and API sort the same way.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .choices import (
    LIVE_STATE_OF_STATUS,
    ConnectorStatus,
    ConnectorType,
    LiveState,
    OcppVersion,
    RegistrationStatus,
    StatusKind,
)
from .models import Connector, Evse, Site, Station, StatusChange
from .tags import normalize_tags


# --- Shared building blocks ------------------------------------------------------------------
def scoped(model, permission: str):
    """A ``queryset`` callable for model choice filters: only what the requester may see."""

    def queryset(request):
        actor = getattr(request, "actor", None)
        if actor is None:
            return model.objects.none()
        return model.objects.restrict(actor, permission)

    return queryset


class Moment:
    """A bound of a time range: a full timestamp, or a calendar day (in the active time zone)."""

    def __init__(self, at: dt.datetime, whole_day: bool) -> None:
        self.at = at
        self.whole_day = whole_day


class MomentField(forms.CharField):
    """Accepts ``2025-03-01`` (a day) or an ISO 8601 timestamp (naive = the active zone)."""

    default_error_messages = {"invalid": _("Enter a date (YYYY-MM-DD) or an ISO 8601 time.")}

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            day = parse_date(value)
            moment = None if day is not None else parse_datetime(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if day is not None:
            start = dt.datetime.combine(day, dt.time.min)
            return Moment(timezone.make_aware(start), whole_day=True)
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return Moment(moment, whole_day=False)


class MomentFilter(django_filters.Filter):
    """``<field>_after`` / ``<field>_before`` bounds, both inclusive (a day includes all of it)."""

    field_class = MomentField

    def __init__(self, *args, bound: str, **kwargs) -> None:
        if bound not in ("after", "before"):
            raise ValueError("bound is 'after' or 'before'")
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs, value: Moment | None):
        if value is None:
            return qs
        if self.bound == "after":
            return qs.filter(**{f"{self.field_name}__gte": value.at})
        if value.whole_day:
            return qs.filter(**{f"{self.field_name}__lt": value.at + dt.timedelta(days=1)})
        return qs.filter(**{f"{self.field_name}__lte": value.at})


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdFilter(django_filters.ModelMultipleChoiceFilter):
    """Ids of rows the requester may see (repeatable: ``?site_id=1&site_id=2``)."""


@extend_schema_field(OpenApiTypes.STR)
class ScopedNameFilter(django_filters.ModelMultipleChoiceFilter):
    """A natural key (a site's name, a station's identity) of rows the requester may see."""


def site_pair(path: str = "site") -> tuple[django_filters.Filter, django_filters.Filter]:
    """``site_id`` and ``site`` (by name) filters for a model whose site is at ``path``."""
    return (
        ScopedIdFilter(
            field_name=path,
            queryset=scoped(Site, "sites.view"),
            distinct=False,
            label=_("Site (id)"),
        ),
        ScopedNameFilter(
            field_name=f"{path}__name",
            to_field_name="name",
            queryset=scoped(Site, "sites.view"),
            distinct=False,
            label=_("Site (name)"),
        ),
    )


def station_pair(path: str = "station") -> tuple[django_filters.Filter, django_filters.Filter]:
    """``station_id`` and ``station`` (by OCPP identity) filters."""
    return (
        ScopedIdFilter(
            field_name=path,
            queryset=scoped(Station, "stations.view"),
            distinct=False,
            label=_("Station (id)"),
        ),
        ScopedNameFilter(
            field_name=f"{path}__identity",
            to_field_name="identity",
            queryset=scoped(Station, "stations.view"),
            distinct=False,
            label=_("Station (identity)"),
        ),
    )


class TagsInput(forms.TextInput):
    """Reads every value of a repeated parameter (``?tag=a&tag=b``)."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            values = data.getlist(name)
            return ",".join(values) if values else None
        return data.get(name)

    def format_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return super().format_value(value)


class TagsField(forms.CharField):
    """One or more tags: repeated parameters, or one comma-separated value."""

    widget = TagsInput

    def to_python(self, value):
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        value = super().to_python(value)
        if not value:
            return []
        try:
            return normalize_tags(value)
        except ValidationError as error:
            raise forms.ValidationError(error.messages, code="invalid_tag") from None


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TagFilter(django_filters.Filter):
    """Stations that carry every tag given (the GIN index answers ``@>``)."""

    field_class = TagsField

    def __init__(self, *args, field_name: str = "tags", **kwargs) -> None:
        super().__init__(*args, field_name=field_name, **kwargs)

    def filter(self, qs, value: list[str]):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__contains": value})


def statuses_of(live_states: list[str]) -> list[str]:
    return [status for status, state in LIVE_STATE_OF_STATUS.items() if state in live_states]


# --- Sites -----------------------------------------------------------------------------------
class SiteFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    name = django_filters.CharFilter(lookup_expr="icontains")
    # Lists leave archived sites out unless asked (``without_archived`` in the views).
    archived = django_filters.BooleanFilter(
        field_name="archived_at", lookup_expr="isnull", exclude=True, label=_("Archived")
    )
    ordering = django_filters.OrderingFilter(fields=["name", "city", "created_at"])

    class Meta:
        model = Site
        fields = ["id", "name", "city", "region", "country", "timezone"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(address__icontains=value)
            | Q(city__icontains=value)
            | Q(postal_code__icontains=value)
        )


# --- Stations --------------------------------------------------------------------------------
class StationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    site_id, site = site_pair("site")
    has_site = django_filters.BooleanFilter(
        field_name="site", lookup_expr="isnull", exclude=True, label=_("Assigned to a site")
    )
    vendor = django_filters.CharFilter(lookup_expr="iexact")
    model = django_filters.CharFilter(lookup_expr="iexact")
    firmware = django_filters.CharFilter(field_name="firmware_version", label=_("Firmware"))
    protocol = django_filters.MultipleChoiceFilter(
        field_name="ocpp_version", choices=OcppVersion.choices, label=_("OCPP version")
    )
    online = django_filters.BooleanFilter(field_name="is_online", label=_("Online"))
    # Lists leave retired stations out unless asked (``without_archived`` in the views).
    retired = django_filters.BooleanFilter(
        field_name="retired_at", lookup_expr="isnull", exclude=True, label=_("Retired")
    )
    registration_status = django_filters.MultipleChoiceFilter(choices=RegistrationStatus.choices)
    status = django_filters.MultipleChoiceFilter(
        choices=LiveState.choices,
        method="filter_live_state",
        label=_("Status (any port)"),
    )
    tag = TagFilter(
        label=_("Tag"),
        help_text=_("Stations carrying every tag given (repeatable: ?tag=a&tag=b)."),
    )
    last_seen_after = MomentFilter(field_name="last_seen_at", bound="after")
    last_seen_before = MomentFilter(field_name="last_seen_at", bound="before")
    ordering = django_filters.OrderingFilter(
        fields=[
            "identity",
            "name",
            ("site__name", "site"),
            "vendor",
            "model",
            ("firmware_version", "firmware"),
            ("ocpp_version", "protocol"),
            ("is_online", "online"),
            "last_seen_at",
            "created_at",
        ]
    )

    class Meta:
        model = Station
        fields = ["id", "identity", "serial_number"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(identity__icontains=value)
            | Q(name__icontains=value)
            | Q(serial_number__icontains=value)
            | Q(site__name__icontains=value)
        )

    def filter_live_state(self, queryset, name, value):
        """A station matches a live state when one of its ports is in it; offline is the link."""
        if not value:
            return queryset
        condition = Q()
        if LiveState.OFFLINE in value:
            condition |= Q(is_online=False)
        statuses = statuses_of(value)
        if statuses:
            port_in_state = Evse.objects.filter(station=OuterRef("pk"), status__in=statuses)
            condition |= Q(is_online=True) & Q(Exists(port_in_state))
        return queryset.filter(condition)


class EvseFilterSet(django_filters.FilterSet):
    station_id, station = station_pair("station")
    site_id, site = site_pair("station__site")
    evse_id = django_filters.NumberFilter(label=_("Port number"))
    status = django_filters.MultipleChoiceFilter(choices=ConnectorStatus.choices)
    live_state = django_filters.MultipleChoiceFilter(
        choices=LiveState.choices, method="filter_live_state", label=_("Live state")
    )
    ordering = django_filters.OrderingFilter(
        fields=[("station__identity", "station"), "evse_id", "status", "status_changed_at"]
    )

    class Meta:
        model = Evse
        fields = ["id", "phases"]

    def filter_live_state(self, queryset, name, value):
        if not value:
            return queryset
        condition = Q()
        if LiveState.OFFLINE in value:
            condition |= Q(station__is_online=False)
        statuses = statuses_of(value)
        if statuses:
            condition |= Q(station__is_online=True, status__in=statuses)
        return queryset.filter(condition)


class ConnectorFilterSet(django_filters.FilterSet):
    evse_id = ScopedIdFilter(
        field_name="evse",
        queryset=scoped(Evse, "stations.view"),
        distinct=False,
        label=_("Port (id)"),
    )
    station_id, station = station_pair("evse__station")
    site_id, site = site_pair("evse__station__site")
    connector_type = django_filters.MultipleChoiceFilter(choices=ConnectorType.choices)
    status = django_filters.MultipleChoiceFilter(choices=ConnectorStatus.choices)
    ordering = django_filters.OrderingFilter(
        fields=[("evse__station__identity", "station"), ("evse__evse_id", "evse"), "connector_id"]
    )

    class Meta:
        model = Connector
        fields = ["id", "connector_id"]


class StatusChangeFilterSet(django_filters.FilterSet):
    station_id, station = station_pair("station")
    site_id, site = site_pair("station__site")
    evse_id = ScopedIdFilter(
        field_name="evse",
        queryset=scoped(Evse, "stations.view"),
        distinct=False,
        label=_("Port (id)"),
    )
    kind = django_filters.ChoiceFilter(choices=StatusKind.choices)
    status = django_filters.CharFilter()
    error_code = django_filters.CharFilter()
    occurred_after = MomentFilter(field_name="occurred_at", bound="after")
    occurred_before = MomentFilter(field_name="occurred_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=["occurred_at", "received_at"])

    class Meta:
        model = StatusChange
        fields = ["id"]
