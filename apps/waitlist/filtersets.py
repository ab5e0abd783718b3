"""One FilterSet per model, shared by the portal and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import ScopedIdFilter, scoped, site_pair

from .choices import EntryStatus, JoinedVia
from .models import WaitlistEntry, WaitlistGroup


class WaitlistGroupFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("site")
    name = django_filters.CharFilter(lookup_expr="icontains")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = WaitlistGroup
        fields = ["id", "name", "is_active"]


class WaitlistEntryFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("group__site")
    group_id = ScopedIdFilter(
        field_name="group",
        queryset=scoped(WaitlistGroup, "waitlist.view"),
        distinct=False,
        label=_("Queue (id)"),
    )
    status = django_filters.MultipleChoiceFilter(choices=EntryStatus.choices)
    joined_via = django_filters.MultipleChoiceFilter(choices=JoinedVia.choices)
    token_uid = django_filters.CharFilter()

    class Meta:
        model = WaitlistEntry
        fields = ["id", "status", "joined_via", "token_uid"]
