import django_filters

from apps.stations.filtersets import MomentFilter, ScopedIdFilter, scoped

from .choices import DeliveryStatus, WebhookEvent
from .models import Webhook, WebhookDelivery


class WebhookFilterSet(django_filters.FilterSet):
    event = django_filters.ChoiceFilter(
        choices=WebhookEvent.choices, field_name="events", lookup_expr="contains", method="by_event"
    )
    ordering = django_filters.OrderingFilter(fields=["name", "created_at"])

    class Meta:
        model = Webhook
        fields = ["id", "is_active"]

    def by_event(self, queryset, name, value):
        return queryset.filter(events__contains=[value])


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    webhook_id = ScopedIdFilter(
        field_name="webhook", queryset=scoped(Webhook, "webhooks.view"), distinct=False
    )
    event = django_filters.MultipleChoiceFilter(choices=WebhookEvent.choices)
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    created_after = MomentFilter(field_name="created_at", bound="after")
    created_before = MomentFilter(field_name="created_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=["created_at", "attempts"])

    class Meta:
        model = WebhookDelivery
        fields = ["id", "uuid"]
