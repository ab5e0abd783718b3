"""One FilterSet per model, shared by the portal and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import site_pair, station_pair

from .choices import CaseCategory, CasePriority, CaseStatus, Queue, RequesterKind
from .models import CannedAnswer, Case


class CaseFilterSet(django_filters.FilterSet):
    site_id, site = site_pair("site")
    station_id, station = station_pair("station")
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=CasePriority.choices)
    category = django_filters.MultipleChoiceFilter(choices=CaseCategory.choices)
    queue = django_filters.MultipleChoiceFilter(choices=Queue.choices)
    requester_kind = django_filters.MultipleChoiceFilter(choices=RequesterKind.choices)
    assignee_id = django_filters.NumberFilter(field_name="assignee_id", label=_("Assigned to (id)"))
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("Unassigned")
    )
    breached = django_filters.BooleanFilter(method="filter_breached", label=_("SLA missed"))
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    ordering = django_filters.OrderingFilter(
        fields=("created_at", "priority", "status", "first_response_due_at", "resolution_due_at")
    )

    class Meta:
        model = Case
        fields = ["id", "status", "priority", "category", "queue", "requester_kind"]

    def filter_breached(self, queryset, name, value):
        missed = Q(first_response_breach_at__isnull=False) | Q(resolution_breach_at__isnull=False)
        return queryset.filter(missed) if value else queryset.exclude(missed)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(subject__icontains=value) | Q(requester_email__icontains=value)
        match |= Q(receipt_number__iexact=value) | Q(station__identity__iexact=value)
        if value.isdigit():
            match |= Q(pk=int(value))
        return queryset.filter(match)


class CannedAnswerFilterSet(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = CannedAnswer
        fields = ["id", "title", "language"]
