import django_filters

from .choices import CampaignStatus
from .models import Campaign, FirmwareImage


class FirmwareImageFilterSet(django_filters.FilterSet):
    ordering = django_filters.OrderingFilter(fields=["uploaded_at", "version"])

    class Meta:
        model = FirmwareImage
        fields = ["id", "vendor", "model", "version"]


class CampaignFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    ordering = django_filters.OrderingFilter(fields=["created_at", "name"])

    class Meta:
        model = Campaign
        fields = ["id", "image"]
