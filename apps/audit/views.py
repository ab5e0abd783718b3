from django.utils.translation import gettext_lazy

from apps.core.views import ScopedListView

from .filtersets import AuditEntryFilterSet
from .models import AuditEntry


class AuditEntryListView(ScopedListView):
    """Who did what, when, from where: site admins (and whoever holds ``audit.view``)."""

    model = AuditEntry
    permission = "audit.view"
    filterset_class = AuditEntryFilterSet
    template_name = "audit/entry_list.html"
    filter_fields = ("q", "actor", "action", "source", "succeeded")
    filter_labels = {"actor": gettext_lazy("Who")}

    def get_queryset(self):
        queryset = super().get_queryset().select_related("site")
        return queryset if queryset.query.order_by else queryset.order_by("-occurred_at", "-id")
