"""One FilterSet per model, shared by the API and the portal lists."""

import django_filters

from apps.stations.filtersets import MomentFilter, ScopedIdFilter, scoped

from .choices import PartnerStatus, PushStatus
from .models import Partner, Push, RemoteCommand, RemoteToken


def _partner_filter():
    return ScopedIdFilter(
        field_name="partner", queryset=scoped(Partner, "roaming.view"), distinct=False
    )


class PartnerFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PartnerStatus.choices)
    ordering = django_filters.OrderingFilter(fields=["name", "created_at"])

    class Meta:
        model = Partner
        fields = ["id", "country_code", "party_id"]


class RemoteTokenFilterSet(django_filters.FilterSet):
    partner_id = _partner_filter()
    ordering = django_filters.OrderingFilter(fields=["uid", "last_updated"])

    class Meta:
        model = RemoteToken
        fields = ["id", "uid", "valid", "whitelist"]


class PushFilterSet(django_filters.FilterSet):
    partner_id = _partner_filter()
    status = django_filters.MultipleChoiceFilter(choices=PushStatus.choices)
    created_after = MomentFilter(field_name="created_at", bound="after")
    created_before = MomentFilter(field_name="created_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=["created_at", "attempts"])

    class Meta:
        model = Push
        fields = ["id", "module"]


class RemoteCommandFilterSet(django_filters.FilterSet):
    partner_id = _partner_filter()
    ordering = django_filters.OrderingFilter(fields=["created_at"])

    class Meta:
        model = RemoteCommand
        fields = ["id", "command", "result"]
