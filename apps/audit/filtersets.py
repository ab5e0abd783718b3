import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.stations.filtersets import MomentFilter, site_pair

from .choices import ActorKind, AuditSource
from .models import AuditEntry


class AuditEntryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    site_id, site = site_pair("site")
    actor_kind = django_filters.MultipleChoiceFilter(choices=ActorKind.choices)
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains")
    user_id = django_filters.NumberFilter(field_name="user")
    api_key_id = django_filters.NumberFilter(field_name="api_key")
    source = django_filters.MultipleChoiceFilter(choices=AuditSource.choices)
    action = django_filters.CharFilter(method="filter_action", label=_("Action (or prefix.)"))
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    succeeded = django_filters.BooleanFilter()
    occurred_after = MomentFilter(field_name="occurred_at", bound="after")
    occurred_before = MomentFilter(field_name="occurred_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=["occurred_at", "action", "actor_label"])

    class Meta:
        model = AuditEntry
        fields = ["id", "ip"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(actor_label__icontains=value)
            | Q(action__icontains=value)
            | Q(object_repr__icontains=value)
        )

    def filter_action(self, queryset, name, value):
        """``station.reset`` matches exactly; ``station.`` matches every station action."""
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)
